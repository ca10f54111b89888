import ArgumentParser
import BuildInfo
import Engine
import LVSNode

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the host match the spec; undo the whole run if any change fails.",
        discussion: "Example: lvs-node setup --role realserver --vip 192.0.2.10 --vip 192.0.2.11")

    @OptionGroup var location: LocationOptions
    @OptionGroup var spec: SpecOptions
    @OptionGroup var output: OutputOptions
    @Flag(name: .customLong("dry-run"), help: "Print the changes and touch nothing (same as plan).")
    var dryRun = false
    @Flag(help: "Replace files at lvs-node's paths that it did not write (rollback puts them back).")
    var force = false
    @OptionGroup var confirmation: ConfirmWithinOption

    func run() throws {
        try ExitStatus.guarding("setup", output) {
            let agent = location.agent
            if dryRun { return PlanCommand.show(try agent.plan(try spec.input(agent.environment)), "setup", output) }
            let report = try agent.setup(try spec.input(agent.environment), force: force, confirmWithin: confirmation.seconds)
            return Output.applied(report, "setup", output)
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
    @OptionGroup var output: OutputOptions

    func run() throws {
        try ExitStatus.guarding("plan", output) {
            let agent = location.agent
            return Self.show(try agent.plan(try spec.input(agent.environment)), "plan", output)
        }
    }

    static func show(_ report: PlanReport, _ command: String, _ output: OutputOptions) -> Int32 {
        if report.interruptedRun {
            output.detail("note: an interrupted run left a journal; setup will undo it first")
        }
        output.details(report.changes)
        for path in report.foreignFiles {
            output.detail("note: \(path) exists and was not written by lvs-node; setup refuses to replace it without --force")
        }
        report.rebootSurvival.forEach(output.detail)
        if let pending = report.pendingConfirmation {
            output.detail("note: " + ConfirmationText.pending(pending)
                          + "; setup refuses to change the host until it is confirmed or undone")
        }
        output.summary(report.hasChanges ? "\(Output.count(report.changes.count, "change")) pending" : "no changes: the host matches the spec")
        let status = report.hasChanges ? ExitStatus.pending : ExitStatus.success
        output.document(command, status: status, [
            ("dry_run", .bool(true)), ("pending", .bool(report.hasChanges)), ("changes", JSONOutput.changes(report.changes)),
            ("interrupted_run", .bool(report.interruptedRun)), ("foreign_files", .strings(report.foreignFiles)),
            ("reboot_survival", .strings(report.rebootSurvival)),
            ("confirmation", ConfirmationText.json(report.pendingConfirmation)),
        ])
        return status
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the host with the last applied spec; print each difference.",
        discussion: "Exits 0 when the host matches and 2 when it drifted, a killed run waits to be undone, or a change is past its confirmation deadline; setup repairs drift.")

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try ExitStatus.guarding("status", output) {
            let report = try location.agent.status()
            let status = Self.show(report, output)
            output.document("status", status: status, [
                ("generation", report.generation.map(JSONOutput.generation) ?? .null),
                ("in_place", .bool(status == ExitStatus.success)),
                ("drift", JSONOutput.changes(report.driftChanges)),
                ("interrupted_run", JSONOutput.interrupted(report)),
                ("not_checked", .strings(report.notChecked)),
                ("ipvs_table", .strings(report.ipvsTable)),
                ("confirmation", ConfirmationText.json(report.confirmation)),
            ])
            return status
        }
    }

    static func show(_ report: StatusReport, _ output: OutputOptions) -> Int32 {
        interrupted(report, output)
        var overdue = false
        if let confirmation = report.confirmation, confirmation.isPending {
            output.detail(ConfirmationText.pending(confirmation))
            overdue = confirmation.isOverdue()
        }
        let status = inPlace(report, output)
        // A change past its deadline is not the state the host is meant to be in.
        return overdue ? ExitStatus.pending : status
    }

    private static func inPlace(_ report: StatusReport, _ output: OutputOptions) -> Int32 {
        guard let generation = report.generation else {
            if report.interruptedRun == nil {
                output.summary("nothing applied: lvs-node has no generation in force")
                return ExitStatus.success
            }
            output.summary("no generation is in force: once the interrupted run is undone, the host is as it was before lvs-node")
            return ExitStatus.pending
        }
        output.detail("generation \(generation.number) (\(generation.created)): \(Output.shortSummary(generation.summary))")
        if !report.ipvsTable.isEmpty {
            output.detail("IP Virtual Server table:")
            report.ipvsTable.forEach(output.detail)
        }
        for subject in report.notChecked {
            output.detail("not checked: \(subject) is readable by root only; run status as root to compare it")
        }
        if report.drift.isEmpty && report.interruptedRun == nil {
            output.summary(report.notChecked.isEmpty ? "in place: the host matches generation \(generation.number)"
                           : "in place: the host matches generation \(generation.number), as far as this user can read it")
            return ExitStatus.success
        }
        if report.drift.isEmpty {
            output.summary("the host matches generation \(generation.number) once the interrupted run is undone")
            return ExitStatus.pending
        }
        report.drift.forEach(output.detail)
        output.summary("drifted from generation \(generation.number): setup would make \(Output.count(report.driftChanges.count, "change"))")
        return ExitStatus.pending
    }

    /// A killed run is not "in place": say what the next setup or rollback does about it first.
    static func interrupted(_ report: StatusReport, _ output: OutputOptions) {
        switch report.interruptedRun {
        case nil: return
        case .unreadable?:
            output.detail("interrupted: a killed run left a journal, which only root may read; the next setup or rollback undoes it first")
        case .removeJournal?:
            output.detail("interrupted: a run was killed after recording its outcome; the next setup or rollback only removes its journal")
        case .undo(let command, let generation, let steps, _)?:
            let what = generation.map { "\(command) of generation \($0)" } ?? command
            if report.interruptedUndo.isEmpty {
                output.detail("interrupted: a \(what) was killed after starting \(Output.count(steps, "step")); it had changed nothing "
                              + "that is still different, and the next setup or rollback only removes its journal")
            } else {
                output.detail("interrupted: a \(what) was killed after starting \(Output.count(steps, "step")); "
                              + "the next setup or rollback first undoes it with these changes:")
                report.interruptedUndo.forEach(output.detail)
            }
        }
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo the newest applied generation, every one newer than --to N, or --all of them.",
        discussion: """
            Without options, undoes the newest generation in force; repeat to walk back. --to N leaves the host as \
            right after generation N was applied; --all as before lvs-node. Each generation is undone as a run of \
            its own, newest first, journaled like any run.
            """)

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .customLong("to"), help: ArgumentHelp("Roll back every generation newer than this one.", valueName: "generation"))
    var generation: Int?
    @Flag(help: "Roll back every generation in force: the host as before lvs-node.")
    var all = false
    @Flag(name: .customLong("dry-run"), help: "Print the changes and touch nothing.")
    var dryRun = false
    @OptionGroup var confirmation: ConfirmWithinOption
    @Option(name: .customLong("if-unconfirmed"),
            help: ArgumentHelp("Wait for the deadline of this confirmation, then undo its change if it is still unconfirmed "
                               + "(what the watcher that --confirm-within starts runs).", valueName: "id"))
    var ifUnconfirmed: String?

    func validate() throws {
        if all && generation != nil { throw ValidationError("give --to N or --all, not both") }
        if let generation, generation < 1 { throw ValidationError("--to takes a generation number (1 or more); --all rolls back every one") }
        if dryRun && confirmation.seconds != nil { throw ValidationError("--dry-run changes nothing, so there is nothing to confirm; drop --confirm-within") }
        if ifUnconfirmed != nil && (all || generation != nil || dryRun || confirmation.seconds != nil) {
            throw ValidationError("--if-unconfirmed takes no other rollback option: it undoes exactly the change of that confirmation")
        }
    }

    var target: NodeAgent.RollbackTarget { all ? .all : generation.map { .generation($0) } ?? .newest }

    func run() throws {
        if let ifUnconfirmed { return try RevertUnconfirmed.run(ifUnconfirmed, location, output) }
        try ExitStatus.guarding("rollback", output) {
            let agent = location.agent
            let report = dryRun ? try agent.planRollback(to: target) : try agent.rollback(to: target, confirmWithin: confirmation.seconds)
            if dryRun && report.interruptedRun {
                output.detail("note: an interrupted run left a journal; rollback will undo it first")
            }
            Output.recovery(report.recovery, output)
            for run in report.runs {
                if report.runs.count > 1 { output.detail("generation \(run.generation ?? 0):") }
                output.details(run.changes)
                run.notes.forEach(output.detail)
            }
            let total = report.runs.reduce(0) { $0 + $1.changes.count }
            let numbers = report.runs.compactMap(\.generation).map(String.init).joined(separator: ", ")
            if report.runs.isEmpty {
                output.summary(target == .newest ? "nothing to roll back: no generation is in force"
                               : "nothing to roll back: no generation newer than \(generation ?? 0) is in force")
            } else if dryRun {
                output.summary("would roll back generation\(report.runs.count == 1 ? "" : "s") \(numbers): \(Output.count(total, "change")) pending")
            } else {
                output.summary("rolled back generation\(report.runs.count == 1 ? "" : "s") \(numbers): \(Output.count(total, "change"))")
            }
            if let confirmation = report.confirmation { output.detail(ConfirmationText.pending(confirmation)) }
            let status = dryRun && total > 0 ? ExitStatus.pending : ExitStatus.success
            if !dryRun { SystemLog.run("rollback", generation: report.runs.first?.generation, changes: total, status: status) }
            output.document("rollback", status: status, [
                ("dry_run", .bool(dryRun)),
                ("generation", .optional(report.lastGeneration)),
                ("rolled_back", .array(report.runs.map { run in
                    .object([("generation", .optional(run.generation)), ("changes", JSONOutput.changes(run.changes)),
                             ("notes", .strings(run.notes))])
                })),
                ("changes", JSONOutput.changes(report.runs.flatMap(\.changes))),
                ("recovery", JSONOutput.recovery(report.recovery)),
                ("confirmation", ConfirmationText.json(report.confirmation)),
            ])
            return status
        }
    }
}

/// The boot path, run by the unit or init script setup installs.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring back the live state (VIPs, sysctls) of the generation in force; the boot path.",
        discussion: "Touches no files and makes no generation; what the boot unit's ExecStart and `init.d … start` run.")

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try ExitStatus.guarding("start", output) {
            Output.live(try location.agent.start(), "start", verb: "started", output)
        }
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take the live state of the generation in force back to how it was before lvs-node; the boot path's stop.")

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try ExitStatus.guarding("stop", output) {
            Output.live(try location.agent.stop(), "stop", verb: "stopped", output)
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the generations, newest last.")

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try ExitStatus.guarding("history", output) {
            let generations = try location.agent.history()
            for generation in generations {
                let state = generation.rolledBack.map { "rolled back \($0)" + (generation.rolledBackBecause.map { " (\($0))" } ?? "") } ?? "applied"
                output.detail("\(generation.number)  \(generation.created)  \(state)  \(Output.count(generation.changeCount, "change"))  \(Output.shortSummary(generation.summary))")
            }
            let inForce = generations.filter(\.isApplied).map(\.number).max()
            output.summary(generations.isEmpty ? "no generations"
                           : "\(Output.count(generations.count, "generation")); in force: \(inForce.map(String.init) ?? "none")")
            output.document("history", status: ExitStatus.success, [
                ("in_force", .optional(inForce)),
                ("generations", .array(generations.map(JSONOutput.generation))),
            ])
            return ExitStatus.success
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
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("Spec files (as for --config).", valueName: "file"))
    var files: [String]

    func run() throws {
        try ExitStatus.guarding("check", output) {
            try location.agent.check(files)
            output.summary("\(Output.count(files.count, "spec")) checked: no problems found")
            output.document("check", status: ExitStatus.success, [("files", .strings(files)), ("problems", .array([]))])
            return ExitStatus.success
        }
    }
}

/// `lvs-node version`: the release and the commit it was built from (also `lvs-node --version`).
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the release version and the commit lvs-node was built from.")

    @Flag(help: "Print it as one JSON document.")
    var json = false

    func run() throws {
        if json {
            JSONOutput.emit(.object([("schema_version", .int(JSONOutput.schemaVersion)), ("command", .string("version")),
                                     ("status", .int(0)), ("version", .string(Release.version)),
                                     ("commit", .string(BuildCommit.value))]))
        } else {
            print(Release.description)
        }
    }
}

enum Output {
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    /// What setup and cloud-init print after a run.
    static func applied(_ report: RunReport, _ command: String, _ output: OutputOptions) -> Int32 {
        recovery(report.recovery, output)
        output.details(report.changes)
        report.notes.forEach(output.detail)
        report.rebootSurvival.forEach(output.detail)
        if let confirmation = report.confirmation { output.detail(ConfirmationText.pending(confirmation)) }
        if let generation = report.generation {
            output.summary("applied generation \(generation): \(count(report.changes.count, "change"))")
        } else {
            output.summary("no changes needed: the host already matches the spec")
        }
        SystemLog.run(command, generation: report.generation, changes: report.changes.count, status: ExitStatus.success)
        output.document(command, status: ExitStatus.success, runMembers(report) + [("reboot_survival", .strings(report.rebootSurvival))])
        return ExitStatus.success
    }

    static func runMembers(_ report: RunReport) -> [(String, JSONValue)] {
        [("generation", .optional(report.generation)), ("changed", .bool(!report.changes.isEmpty)),
         ("changes", JSONOutput.changes(report.changes)), ("notes", .strings(report.notes)),
         ("recovery", JSONOutput.recovery(report.recovery)), ("confirmation", ConfirmationText.json(report.confirmation))]
    }

    static func live(_ report: RunReport, _ command: String, verb: String, _ output: OutputOptions) -> Int32 {
        recovery(report.recovery, output)
        if let generation = report.generation {
            output.details(report.changes)
            output.summary("\(verb) generation \(generation): \(count(report.changes.count, "change"))")
        } else {
            output.summary("nothing to do: no generation is in force")
        }
        SystemLog.run(command, generation: report.generation, changes: report.changes.count, status: ExitStatus.success)
        output.document(command, status: ExitStatus.success, runMembers(report))
        return ExitStatus.success
    }

    static func recovery(_ outcome: Recovery.Outcome, _ output: OutputOptions) {
        if case .undone(let steps) = outcome {
            output.detail("recovered: undid \(count(steps, "step")) of an interrupted earlier run")
        }
    }

    /// A generation's summary with a long VIP list cut short: the first five and how many more.
    static func shortSummary(_ summary: String, keep: Int = 5) -> String {
        guard let range = summary.firstRange(of: " vips ") else { return summary }
        let vips = summary[range.upperBound...].split(separator: ",").map { $0.trimmingPrefix(" ") }
        guard vips.count > keep else { return summary }
        return summary[..<range.upperBound] + vips.prefix(keep).joined(separator: ", ") + " … \(vips.count - keep) more"
    }
}
