import Engine

/// A driver for dry runs: reads the host through the real driver until a subject is written, then
/// answers with what was written; nothing reaches the host. A planned `rollback --all` plans each
/// generation's undo against the host as the undo of the newer ones would leave it.
final class SimulatedDriver: Driver {
    private let real: Driver
    private var written: [String: String?] = [:]

    init(_ real: Driver) { self.real = real }

    var kind: String { real.kind }
    var persistsAcrossReboot: Bool { real.persistsAcrossReboot }

    func read(_ subjects: [String]) throws -> [String?] {
        var live = try real.read(subjects.filter { written[$0] == nil }).makeIterator()
        return subjects.map { subject in
            if let state = written[subject] { return state }
            return live.next() ?? nil
        }
    }

    func write(_ changes: [Change]) throws {
        for change in changes { written[change.subject] = .some(change.after) }
    }

    func describe(_ change: Change) -> String { real.describe(change) }
    func details(_ change: Change) -> [String] { real.details(change) }
    func ordered(_ changes: [Change]) -> [Change] { real.ordered(changes) }
    func refuse(_ changes: [Change]) throws { try real.refuse(changes) }
    func discardDebris(_ subjects: [String]) throws {}
    func isPrivate(_ state: String) -> Bool { real.isPrivate(state) }
    func isAbsent(_ state: String?) -> Bool { real.isAbsent(state) }
}
