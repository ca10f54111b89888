/// The changes one run would make, step by step, in order.
public struct Plan: Sendable {
    public struct Step: Sendable {
        public var name: String
        public var kind: String
        public var changes: [Change]

        public init(name: String, kind: String, changes: [Change]) {
            self.name = name
            self.kind = kind
            self.changes = changes
        }
    }

    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    public var changes: [Change] { steps.flatMap(\.changes) }
    public var isEmpty: Bool { steps.allSatisfy { $0.changes.isEmpty } }

    /// One line per change: `+ …`, `- …`, `~ … old → new`, each followed by its details (a file's
    /// diff) indented.
    public func lines(_ drivers: Drivers) -> [String] {
        changes.flatMap { Plan.lines($0, drivers) }
    }

    public static func lines(_ change: Change, _ drivers: Drivers) -> [String] {
        let details = (try? drivers.driver(for: change.kind).details(change)) ?? []
        return [line(change, drivers)] + details.map { "    " + $0 }
    }

    public static func line(_ change: Change, _ drivers: Drivers) -> String {
        guard let driver = try? drivers.driver(for: change.kind) else { return "\(change.symbol) \(change.kind) \(change.subject)" }
        let symbol = driver.isAbsent(change.before) ? "+" : driver.isAbsent(change.after) ? "-" : "~"
        return "\(symbol) \(driver.describe(change))"
    }
}

/// Compares desired state with the host: observe → diff, touching nothing.
public enum Planner {
    /// The plan that takes the host to `steps`. Subjects the previous generation wanted that the new
    /// steps no longer mention go back to their `baseline` (their state before lvs-node first changed
    /// them); a subject with no baseline was already in place before lvs-node and is left alone.
    /// A change its driver refuses (`Driver.refuse`: it could not be undone) throws here, before any change.
    /// `baseline` is evaluated only when a subject is released: a generation's baseline is decoded on
    /// first use (`LazySection`), and a run that keeps every subject (a no-op) never looks in it.
    public static func plan(_ steps: [DesiredStep], previous: [DesiredStep], baseline: @autoclosure () -> [String: String?],
                            drivers: Drivers) throws -> Plan {
        try plan(steps, previous: previous, priorStates: { keys in
            let all = baseline()
            return Dictionary(keys.compactMap { key in all[key].map { (key, $0) } }, uniquingKeysWith: { first, _ in first })
        }, drivers: drivers)
    }

    /// The same with the baseline asked only for the keys (`Planner.key`) of the subjects released:
    /// `priorStates(keys)` gives those of them that have a baseline record (`Generation.baselineStates`
    /// finds a few in the file without decoding a director's whole table). Not called when none is released.
    public static func plan(_ steps: [DesiredStep], previous: [DesiredStep], priorStates: ([String]) -> [String: String?],
                            drivers: Drivers) throws -> Plan {
        // Kind and subject as a pair, not joined into one String: a thousand VIPs, a thousand Strings fewer.
        struct Owned: Hashable { let kind: String, subject: String }
        var seen = Set<Owned>(minimumCapacity: steps.reduce(0) { $0 + $1.desired.count })
        var resolved = steps
        for step in steps {
            for desired in step.desired where !seen.insert(Owned(kind: step.kind, subject: desired.subject)).inserted {
                throw EngineError.duplicateSubject(step.kind, desired.subject)
            }
        }
        let leaving = previous.map { old in old.desired.filter { !seen.contains(Owned(kind: old.kind, subject: $0.subject)) } }
        let keys = zip(previous, leaving).flatMap { old, gone in gone.map { key(old.kind, $0.subject) } }
        let prior = keys.isEmpty ? [:] : priorStates(keys)
        for (old, gone) in zip(previous, leaving) where !gone.isEmpty {
            let released = gone.compactMap { desired -> Desired? in
                guard let state = prior[key(old.kind, desired.subject)] else { return nil }
                return Desired(subject: desired.subject, state: state)
            }
            guard !released.isEmpty else { continue }
            if let index = resolved.firstIndex(where: { $0.name == old.name && $0.kind == old.kind }) {
                resolved[index].desired += released
            } else {
                resolved.append(DesiredStep(name: old.name, kind: old.kind, desired: released))
            }
        }
        let plan = Plan(steps: try resolved.map { try diff($0, drivers) })
        for step in plan.steps { try drivers.driver(for: step.kind).refuse(step.changes) }
        return plan
    }

    /// The changes that make the host match one step.
    public static func diff(_ step: DesiredStep, _ drivers: Drivers) throws -> Plan.Step {
        let driver = try drivers.driver(for: step.kind)
        let current = try driver.read(step.desired.map(\.subject))
        var changes: [Change] = []
        for (desired, now) in zip(step.desired, current) where desired.state != now {
            changes.append(Change(kind: step.kind, subject: desired.subject, before: now, after: desired.state))
        }
        return Plan.Step(name: step.name, kind: step.kind, changes: driver.ordered(changes))
    }

    public static func key(_ kind: String, _ subject: String) -> String { "\(kind) \(subject)" }
}
