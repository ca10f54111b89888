/// A run that failed and was undone: which step, which change, why, and whether the undo worked.
public struct RunFailure: Error, CustomStringConvertible {
    public let step: String
    public let change: String
    public let underlying: Error
    /// Empty when the host was restored; otherwise what could not be put back.
    public let restoreErrors: [String]

    public var restored: Bool { restoreErrors.isEmpty }

    public var description: String {
        var text = "step '\(step)' failed: \(underlying)\n  while applying: \(change)"
        if restored {
            text += "\n  every change this run had made was undone; the host is as it was before the run"
        } else {
            text += "\n  ROLLBACK FAILED: the host is NOT as it was. Check these by hand:"
            text += restoreErrors.map { "\n    - \($0)" }.joined()
        }
        return text
    }
}

/// Applies a plan step by step under the journal, and undoes the run if any change fails.
public struct Executor {
    public let drivers: Drivers
    public let journal: Journal

    public init(drivers: Drivers, journal: Journal) {
        self.drivers = drivers
        self.journal = journal
    }

    /// Runs `plan`. On success the journal is left for the caller to close once the outcome is recorded.
    public func run(_ plan: Plan, header: Journal.Header) throws {
        try journal.begin(header)
        var started: [(step: String, changes: [Change])] = []
        for step in plan.steps where !step.changes.isEmpty {
            try journal.intent(step: step.name, changes: step.changes)
            started.append((step.name, step.changes))
            do {
                try drivers.driver(for: step.kind).write(step.changes)
            } catch {
                let failure = error as? ChangeFailure
                let restoreErrors = Undo.restore(started, drivers: drivers)
                if restoreErrors.isEmpty { try? journal.remove() }
                throw RunFailure(step: step.name, change: Plan.line(failure?.change ?? step.changes[0], drivers),
                                 underlying: failure?.underlying ?? error, restoreErrors: restoreErrors)
            }
            try journal.applied(step: step.name)
        }
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

    private static func orderedKinds(_ changes: ReversedCollection<[Change]>) -> [String] {
        var kinds: [String] = []
        for change in changes where !kinds.contains(change.kind) { kinds.append(change.kind) }
        return kinds
    }
}
