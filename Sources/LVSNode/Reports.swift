import Engine
import HostAccess

/// What `plan` found: one line per pending change.
public struct PlanReport {
    public var lines: [String]
    /// Set when an interrupted run's journal is waiting to be undone by the next setup or rollback.
    public var interruptedRun: Bool
    /// Existing files lvs-node did not write that setup would replace (it refuses without --force).
    public var foreignFiles: [String]
    /// What brings the state back after a reboot, and a warning when nothing does.
    public var rebootSurvival: [String] = []
    public var hasChanges: Bool { !lines.isEmpty }
}

/// What `setup` or `rollback` did.
public struct RunReport {
    public var lines: [String]
    /// The generation created (setup) or rolled back (rollback); nil when nothing was needed.
    public var generation: Int?
    /// What happened to a journal an earlier, killed run left behind.
    public var recovery: Recovery.Outcome
    /// Daemons told to reload a changed file.
    public var notes: [String] = []
    /// setup: what brings the state back after a reboot, and a warning when nothing does.
    public var rebootSurvival: [String] = []
}

/// How the host compares with the generation in force.
public struct StatusReport {
    public var generation: Generation?
    public var drift: [String]
    /// What the next setup or rollback will do first about a run that was killed, if one was.
    public var interruptedRun: Recovery.Pending?
    /// The plan lines of `interruptedRun`'s undo.
    public var interruptedUndo: [String] = []
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
