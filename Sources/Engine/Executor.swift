/// A run that failed and was undone: which step, which change, why, and whether the undo worked.
public struct RunFailure: Error, CustomStringConvertible {
    public let step: String
    /// The plan line of the change that failed; nil when the run failed while recording its outcome.
    public let change: String?
    public let underlying: Error
    /// Empty when the host was restored; otherwise what could not be put back.
    public let restoreErrors: [String]

    public var restored: Bool { restoreErrors.isEmpty }

    public var description: String {
        var text = "step '\(step)' failed: \(underlying)"
        if let change { text += "\n  while applying: \(change)" }
        if restored {
            text += "\n  every change this run had made was undone; the host is as it was before the run"
        } else {
            text += "\n  ROLLBACK FAILED: the host is NOT as it was. Check these by hand:"
            text += restoreErrors.map { "\n    - \($0)" }.joined()
        }
        return text
    }
}

/// What makes a run's outcome count once its changes are made (telling a daemon, recording the
/// generation). Part of the run: if one fails, the whole run is undone.
public struct Commit {
    public let name: String
    public let perform: () throws -> Void
    /// Takes back what `perform` recorded, before the host's changes are undone (so a crash in the
    /// middle of undoing leaves a journal that recovery undoes, not a record claiming the run).
    public let retract: (() throws -> Void)?
    /// Done again once the host is back (a daemon told to read the restored file).
    public let redo: (() throws -> Void)?

    public init(_ name: String, perform: @escaping () throws -> Void,
                retract: (() throws -> Void)? = nil, redo: (() throws -> Void)? = nil) {
        self.name = name
        self.perform = perform
        self.retract = retract
        self.redo = redo
    }
}

/// Applies a plan step by step under the journal, then its commits, then removes the journal. Any
/// failure after the first change (a change, a journal record, a commit, the journal's removal)
/// undoes the whole run: exit 1 always means "failed and undone".
public struct Executor {
    public let drivers: Drivers
    public let journal: Journal

    public init(drivers: Drivers, journal: Journal) {
        self.drivers = drivers
        self.journal = journal
    }

    public func run(_ plan: Plan, header: Journal.Header, commits: [Commit] = []) throws {
        try journal.begin(header)
        var started: [(step: String, changes: [Change])] = []
        var committed: [Commit] = []
        var current = (step: "", change: String?.none)
        let steps = plan.steps.filter { !$0.changes.isEmpty }
        do {
            if let first = steps.first {
                current = (first.name, nil)
                try journal.intents(steps.map { ($0.name, $0.changes) })
            }
            for step in steps {
                current = (step.name, nil)
                started.append((step.name, step.changes))
                do {
                    try drivers.driver(for: step.kind).write(step.changes)
                } catch {
                    let failure = error as? ChangeFailure
                    current.change = Plan.line(failure?.change ?? step.changes[0], drivers)
                    throw failure?.underlying ?? error
                }
                try journal.applied(step: step.name)
            }
            for commit in commits {
                current = (commit.name, nil)
                try commit.perform()
                committed.append(commit)
            }
            current = ("closing the journal", nil)
            try journal.remove()
        } catch {
            throw RunFailure(step: current.step, change: current.change, underlying: error,
                             restoreErrors: undo(started, committed))
        }
    }

    /// Retracts the commits, restores the host, then redoes what must follow the restored host.
    private func undo(_ started: [(step: String, changes: [Change])], _ committed: [Commit]) -> [String] {
        var problems: [String] = []
        for commit in committed.reversed() {
            do { try commit.retract?() } catch { problems.append("taking back '\(commit.name)': \(error)") }
        }
        problems += Undo.restore(started, drivers: drivers)
        for commit in committed.reversed() {
            do { try commit.redo?() } catch { problems.append("after the undo, '\(commit.name)' again: \(error)") }
        }
        if problems.isEmpty {
            // Everything is back; a journal that cannot be removed now only makes the next run
            // re-check states that already match.
            try? journal.remove()
        }
        return problems
    }
}

/// Puts subjects back to the `before` of recorded changes, newest first. Reads the host first and
/// writes only what differs, so undoing a change that never happened is a no-op.
public enum Undo {
    /// Returns what could not be restored (empty on success); keeps going past failures so as much
    /// as possible is put back.
    public static func restore(_ intents: [(step: String, changes: [Change])], drivers: Drivers) -> [String] {
        var problems: [String] = []
        for intent in intents.reversed() {
            let byKind = Dictionary(grouping: intent.changes.reversed(), by: \.kind)
            for kind in orderedKinds(intent.changes.reversed()) {
                let changes = byKind[kind] ?? []
                do {
                    let driver = try drivers.driver(for: kind)
                    let current = try driver.read(changes.map(\.subject))
                    for (change, now) in zip(changes, current) where now != change.before {
                        let undo = Change(kind: kind, subject: change.subject, before: now, after: change.before)
                        // One at a time, so one failure does not stop the rest from being put back.
                        do { try driver.write([undo]) } catch { problems.append("\(Plan.line(undo, drivers)): \(error)") }
                    }
                } catch {
                    problems.append("step '\(intent.step)': \(error)")
                }
            }
        }
        return problems
    }

    /// The changes `restore` would make now, in order, without making them.
    public static func changes(_ intents: [(step: String, changes: [Change])], drivers: Drivers) throws -> [Change] {
        var undo: [Change] = []
        for intent in intents.reversed() {
            let byKind = Dictionary(grouping: intent.changes.reversed(), by: \.kind)
            for kind in orderedKinds(intent.changes.reversed()) {
                let changes = byKind[kind] ?? []
                let current = try drivers.driver(for: kind).read(changes.map(\.subject))
                for (change, now) in zip(changes, current) where now != change.before {
                    undo.append(Change(kind: kind, subject: change.subject, before: now, after: change.before))
                }
            }
        }
        return undo
    }

    private static func orderedKinds(_ changes: ReversedCollection<[Change]>) -> [String] {
        var kinds: [String] = []
        for change in changes where !kinds.contains(change.kind) { kinds.append(change.kind) }
        return kinds
    }
}
