import Engine
import HostAccess
import Steps

/// One change as commands print it: the plan line and its details (a file's diff, secrets masked),
/// and, for `--json`, the change as data. `before`/`after` are lvs-node's text states, never a
/// secret: a file shows only its first line (`file 0644`, `link TARGET`; its content is in the
/// diff), a state only root may read shows as `readable by root only`, absence as nil.
public struct ReportedChange: Sendable {
    public enum Action: String, Sendable { case add, remove, change }
    public var action: Action
    public var kind: String
    public var subject: String
    public var before: String?
    public var after: String?
    /// The plan line: `+ address 192.0.2.10/32 on lo (label lo:0)`.
    public var line: String
    /// The lines under it, unindented (a file's unified diff).
    public var details: [String]

    public init(_ change: Change, _ drivers: Drivers) {
        self.init(change, driver: try? drivers.driver(for: change.kind))
    }

    /// `driver`: the change's, looked up once per kind by `list` (a thousand changes, one kind).
    init(_ change: Change, driver: Driver?) {
        let absentBefore = driver?.isAbsent(change.before) ?? (change.before == nil)
        let absentAfter = driver?.isAbsent(change.after) ?? (change.after == nil)
        action = absentBefore ? .add : absentAfter ? .remove : .change
        kind = change.kind
        subject = change.subject
        func shown(_ state: String?, absent: Bool) -> String? {
            guard let state, !absent else { return nil }
            if state == PrivateState.unreadable { return Self.unreadable }
            if change.kind == FileDriver.kindName || driver?.isPrivate(state) != false {
                return String(state.prefix { $0 != "\n" })
            }
            return state
        }
        before = shown(change.before, absent: absentBefore)
        after = shown(change.after, absent: absentAfter)
        // As Plan.line, from the action already worked out.
        if let driver {
            line = (absentBefore ? "+ " : absentAfter ? "- " : "~ ") + driver.describe(change)
        } else {
            line = "\(change.symbol) \(change.kind) \(change.subject)"
        }
        details = driver?.details(change) ?? []
    }

    /// What a state only root may read shows as.
    public static let unreadable = "readable by root only"

    public static func list(_ changes: [Change], _ drivers: Drivers) -> [ReportedChange] {
        var last: (kind: String, driver: Driver?)?
        return changes.map { change in
            if last?.kind != change.kind { last = (change.kind, try? drivers.driver(for: change.kind)) }
            return ReportedChange(change, driver: last?.driver)
        }
    }

    /// The plan lines: each change's line, its details indented under it.
    public var lines: [String] { [line] + details.map { "    " + $0 } }
}

extension [ReportedChange] {
    public var lines: [String] { flatMap(\.lines) }
}

/// What `plan` found: one line per pending change.
public struct PlanReport {
    public var changes: [ReportedChange]
    public var lines: [String] { changes.lines }
    /// Set when an interrupted run's journal is waiting to be undone by the next setup or rollback.
    public var interruptedRun: Bool
    /// Existing files lvs-node did not write that setup would replace (it refuses without --force).
    public var foreignFiles: [String]
    /// What brings the state back after a reboot, and a warning when nothing does.
    public var rebootSurvival: [String] = []
    /// A change awaiting confirmation: setup refuses until it is confirmed or undone.
    public var pendingConfirmation: Confirmation?
    public var hasChanges: Bool { !changes.isEmpty }
}

/// What `setup` or `rollback` did.
public struct RunReport {
    /// The change awaiting confirmation (`--confirm-within`), if this run armed one / as on disk.
    public var confirmation: Confirmation?
    public var changes: [ReportedChange]
    public var lines: [String] { changes.lines }
    /// The generation created (setup) or rolled back (rollback); nil when nothing was needed.
    public var generation: Int?
    /// What happened to a journal an earlier, killed run left behind.
    public var recovery: Recovery.Outcome
    /// Daemons told to reload a changed file.
    public var notes: [String] = []
    /// setup: what brings the state back after a reboot, and a warning when nothing does.
    public var rebootSurvival: [String] = []

    public init(changes: [ReportedChange], generation: Int?, recovery: Recovery.Outcome, notes: [String] = [],
                rebootSurvival: [String] = []) {
        self.changes = changes
        self.generation = generation
        self.recovery = recovery
        self.notes = notes
        self.rebootSurvival = rebootSurvival
    }

    /// A later run of the same command (the end of a drain): its changes after these, its generation.
    public mutating func append(_ later: RunReport) {
        changes += later.changes
        generation = later.generation ?? generation
        notes += later.notes
        if !later.rebootSurvival.isEmpty { rebootSurvival = later.rebootSurvival }
    }
}

/// How the host compares with the generation in force.
public struct StatusReport {
    /// The change awaiting confirmation (`--confirm-within`), if this run armed one / as on disk.
    public var confirmation: Confirmation?
    public var generation: Generation?
    public var driftChanges: [ReportedChange]
    public var drift: [String] { driftChanges.lines }
    /// What the next setup or rollback will do first about a run that was killed, if one was.
    public var interruptedRun: Recovery.Pending?
    /// The changes of `interruptedRun`'s undo.
    public var interruptedUndoChanges: [ReportedChange] = []
    public var interruptedUndo: [String] { interruptedUndoChanges.lines }
    /// What this user could not compare (a 0600 file, read by someone other than root).
    public var notChecked: [String] = []
    /// The kernel's IPVS table in `ipvsadm -Ln` style with drift marked, when the generation has one.
    public var ipvsTable: [String] = []
}

/// The host lacks the privilege to change network state.
public struct NotPermitted: Error, CustomStringConvertible {
    public var description: String {
        "changing network state needs CAP_NET_ADMIN; run as root (or `lvs-node plan` to only look)"
    }
}

/// The state directory cannot be created or used (a regular file in its place, a read-only disk).
public struct StateDirectoryUnusable: Error, CustomStringConvertible {
    public let path: String
    public let error: HostError
    public var description: String {
        "cannot use the state directory \(path) (\(error)); give --state-dir a directory lvs-node can create and write"
    }
}

/// What `rollback` did (or, planned, would do): one run per generation rolled back, newest first.
public struct RollbackReport {
    /// The change awaiting confirmation (`--confirm-within`), if this run armed one / as on disk.
    public var confirmation: Confirmation?
    public var runs: [RunReport]
    /// What happened to a journal an earlier, killed run left behind.
    public var recovery: Recovery.Outcome
    /// A dry run: an interrupted run's journal waits to be undone first (its undo is not in the plan).
    public var interruptedRun = false
    /// The oldest generation rolled back; nil when none was in force.
    public var lastGeneration: Int? { runs.last?.generation }
}

/// What `show` prints: a generation's spec. `spec` is nil only for a generation with a password
/// written before lvs-node kept a masked copy, shown to a user who may not read the password.
public struct ShownSpec: Sendable {
    public var generation: Int
    public var spec: String?
    public var secretsMasked: Bool
}
