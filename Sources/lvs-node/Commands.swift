import ArgumentParser
import Engine
import LVSNode

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the host match the spec; undo the whole run if any change fails.",
        discussion: "Example: lvs-node setup --role realserver --vip 192.0.2.10 --vip 192.0.2.11")

    @OptionGroup var location: LocationOptions
    @OptionGroup var spec: SpecOptions
    @Flag(name: .customLong("dry-run"), help: "Print the changes and touch nothing (same as plan).")
    var dryRun = false
    @Flag(help: "Replace files at lvs-node's paths that it did not write (rollback puts them back).")
    var force = false

    func run() throws {
        try ExitStatus.guarding {
            let agent = location.agent
            if dryRun { return PlanCommand.show(try agent.plan(try spec.input(agent.environment))) }
            let report = try agent.setup(try spec.input(agent.environment), force: force)
            Output.recovery(report.recovery)
            report.lines.forEach { print($0) }
            report.notes.forEach { print($0) }
            report.rebootSurvival.forEach { print($0) }
            if let generation = report.generation {
                print("applied generation \(generation): \(Output.count(Output.changeCount(report.lines), "change"))")
            } else {
                print("no changes needed: the host already matches the spec")
            }
            return ExitStatus.success
        }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the changes setup would make (+ add, - remove, ~ change); touch nothing.",
        discussion: "Exits 0 when nothing would change and 2 when changes are pending.")

    @OptionGroup var location: LocationOptions
    @OptionGroup var spec: SpecOptions

    func run() throws {
        try ExitStatus.guarding {
            let agent = location.agent
            return Self.show(try agent.plan(try spec.input(agent.environment)))
        }
    }

    static func show(_ report: PlanReport) -> Int32 {
        if report.interruptedRun {
            print("note: an interrupted run left a journal; setup will undo it first")
        }
        report.lines.forEach { print($0) }
        for path in report.foreignFiles {
            print("note: \(path) exists and was not written by lvs-node; setup refuses to replace it without --force")
        }
        report.rebootSurvival.forEach { print($0) }
        let count = Output.changeCount(report.lines)
        print(report.hasChanges ? "\(Output.count(count, "change")) pending" : "no changes: the host matches the spec")
        return report.hasChanges ? ExitStatus.pending : ExitStatus.success
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the host with the last applied spec; print each difference.",
        discussion: "Exits 0 when the host matches and 2 when it drifted or a killed run waits to be undone; setup repairs drift.")

    @OptionGroup var location: LocationOptions

    func run() throws {
        try ExitStatus.guarding {
            let report = try location.agent.status()
            Self.interrupted(report)
            guard let generation = report.generation else {
                if report.interruptedRun == nil {
                    print("nothing applied: lvs-node has no generation in force")
                    return ExitStatus.success
                }
                print("no generation is in force: once the interrupted run is undone, the host is as it was before lvs-node")
                return ExitStatus.pending
            }
            print("generation \(generation.number) (\(generation.created)): \(generation.summary)")
            if !report.ipvsTable.isEmpty {
                print("IP Virtual Server table:")
                report.ipvsTable.forEach { print($0) }
            }
            for subject in report.notChecked {
                print("not checked: \(subject) is readable by root only; run status as root to compare it")
            }
            if report.drift.isEmpty && report.interruptedRun == nil {
                print(report.notChecked.isEmpty ? "in place: the host matches" : "in place: the host matches, as far as this user can read it")
                return ExitStatus.success
            }
            if report.drift.isEmpty {
                print("the host matches generation \(generation.number) once the interrupted run is undone")
                return ExitStatus.pending
            }
            print("drifted: setup would make these changes")
            report.drift.forEach { print($0) }
            return ExitStatus.pending
        }
    }
}

extension Status {
    /// A killed run is not "in place": say what the next setup or rollback does about it first.
    static func interrupted(_ report: StatusReport) {
        switch report.interruptedRun {
        case nil: return
        case .unreadable?:
            print("interrupted: a killed run left a journal, which only root may read; the next setup or rollback undoes it first")
        case .removeJournal?:
            print("interrupted: a run was killed after recording its outcome; the next setup or rollback only removes its journal")
        case .undo(let command, let generation, let steps, _)?:
            let what = generation.map { "\(command) of generation \($0)" } ?? command
            if report.interruptedUndo.isEmpty {
                print("interrupted: a \(what) was killed after starting \(Output.count(steps, "step")); it had changed nothing "
                      + "that is still different, and the next setup or rollback only removes its journal")
            } else {
                print("interrupted: a \(what) was killed after starting \(Output.count(steps, "step")); "
                      + "the next setup or rollback first undoes it with these changes:")
                report.interruptedUndo.forEach { print($0) }
            }
        }
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo the newest applied generation; repeat to walk back to the host before lvs-node.")

    @OptionGroup var location: LocationOptions

    func run() throws {
        try ExitStatus.guarding {
            let report = try location.agent.rollback()
            Output.recovery(report.recovery)
            guard let generation = report.generation else {
                print("nothing to roll back: no generation is in force")
                return ExitStatus.success
            }
            report.lines.forEach { print($0) }
            report.notes.forEach { print($0) }
            print("rolled back generation \(generation): \(Output.count(Output.changeCount(report.lines), "change"))")
            return ExitStatus.success
        }
    }
}

/// The boot path, run by the unit or init script setup installs.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring back the live state (VIPs, sysctls) of the generation in force; the boot path.",
        discussion: "Touches no files and makes no generation; what the boot unit's ExecStart and `init.d … start` run.")

    @OptionGroup var location: LocationOptions

    func run() throws {
        try ExitStatus.guarding {
            let report = try location.agent.start()
            return Output.live(report, verb: "started")
        }
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take the live state of the generation in force back to how it was before lvs-node; the boot path's stop.")

    @OptionGroup var location: LocationOptions

    func run() throws {
        try ExitStatus.guarding {
            let report = try location.agent.stop()
            return Output.live(report, verb: "stopped")
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the generations, newest last.")

    @OptionGroup var location: LocationOptions

    func run() throws {
        try ExitStatus.guarding {
            let generations = try location.agent.history()
            if generations.isEmpty { print("no generations") }
            for generation in generations {
                let state = generation.rolledBack.map { "rolled back \($0)" } ?? "applied"
                print("\(generation.number)  \(generation.created)  \(state)  \(Output.count(generation.changes.count, "change"))  \(generation.summary)")
            }
            return ExitStatus.success
        }
    }
}

enum Output {
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    /// Plan lines without the indented detail lines (a file's diff).
    static func changeCount(_ lines: [String]) -> Int { lines.filter { !$0.hasPrefix(" ") }.count }

    static func live(_ report: RunReport, verb: String) -> Int32 {
        recovery(report.recovery)
        guard let generation = report.generation else {
            print("nothing to do: no generation is in force")
            return ExitStatus.success
        }
        report.lines.forEach { print($0) }
        print("\(verb) generation \(generation): \(count(changeCount(report.lines), "change"))")
        return ExitStatus.success
    }

    static func recovery(_ outcome: Recovery.Outcome) {
        if case .undone(let steps) = outcome {
            print("recovered: undid \(count(steps, "step")) of an interrupted earlier run")
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check spec files without touching the host: each alone, and the directors among them as HA pairs.",
        discussion: """
            Catches what keepalived cannot see from one host: two clusters with the same virtual_router_id on one \
            interface, two MASTERs, a BACKUP whose priority is not below the MASTER's, and differing VRRP passwords. \
            Exits 0 when all is well and 65 otherwise.
            """)

    @OptionGroup var location: LocationOptions

    @Argument(help: ArgumentHelp("Spec files (as for --config).", valueName: "file"))
    var files: [String]

    func run() throws {
        try ExitStatus.guarding {
            try location.agent.check(files)
            print("\(Output.count(files.count, "spec")) checked: no problems found")
            return ExitStatus.success
        }
    }
}
