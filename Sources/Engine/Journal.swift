import HostAccess

/// The write-ahead journal of one run: before a step changes anything, its changes with their prior
/// states are on disk; after it, a completion record. A run that ends normally removes the journal;
/// one that was killed leaves it, and `Recovery` undoes what it recorded.
///
/// Records (see `StateText`): `begin COMMAND GENERATION`; `intent STEP COUNT` followed by COUNT
/// `change` lines (a run writes and flushes all its steps' intents as one, before its first change);
/// `applied STEP`.
public final class Journal {
    public struct Header: Equatable, Sendable {
        public enum Command: String, Sendable { case setup, rollback, start, stop }
        public var command: Command
        public var generation: Int

        public init(command: Command, generation: Int) {
            self.command = command
            self.generation = generation
        }
    }

    /// What a journal left by an interrupted run holds.
    public struct Contents: Sendable {
        public var header: Header?
        public var intents: [(step: String, changes: [Change])]

        /// How many `applied` records there are: steps run in order, and names may repeat (every
        /// step of a rollback is `undo generation N`).
        public var appliedCount = 0

        /// The steps the run had started: those marked applied and the one after them. Every intent
        /// is written before the first step, so the later ones had not begun.
        public var startedSteps: Int { min(appliedCount + 1, intents.count) }
    }

    public let path: String
    /// Called after each record is written; tests use it to stop the world at every record.
    var afterAppend: (() -> Void)?
    /// The begin record, written with the first intent: a run that changes nothing leaves no journal.
    private var pendingBegin: String?

    public init(path: String) {
        self.path = path
    }

    public var exists: Bool { DurableFiles.exists(path) }

    public func begin(_ header: Header) throws {
        // Recovery has already dealt with a journal left before this run: usually there is none, and
        // then there is no removal to make durable (a directory fsync for nothing).
        if exists { try DurableFiles.remove(path) }
        pendingBegin = StateText.line("begin", header.command.rawValue, String(header.generation))
    }

    /// Every step's intent in one write and one flush, before the first of them changes anything:
    /// one fdatasync for a run instead of one per step. Recording a step before it starts is what
    /// a step's own intent always did; recovery reads the host back before it undoes, so the
    /// intent of a step that never started undoes nothing.
    public func intents(_ steps: [(step: String, changes: [Change])]) throws {
        var record = StateTextWriter(capacity: steps.reduce(64) { $0 + 64 * $1.changes.count + 64 })
        if let pendingBegin { record.plain(pendingBegin) }
        pendingBegin = nil
        for (step, changes) in steps {
            record.record("intent"); record.field(step); record.plainField(String(changes.count)); record.endRecord()
            for change in changes {
                record.record("change"); record.field(change.kind); record.field(change.subject)
                record.optionalField(change.before); record.optionalField(change.after); record.endRecord()
            }
        }
        try append(record.bytes, flush: true)
    }

    /// Never flushed: recovery undoes every intent whether or not it was marked applied, so this
    /// record only informs (how many steps an interrupted run had started).
    public func applied(step: String) throws {
        try append(Array(StateText.line("applied", StateText.escape(step)).utf8), flush: false)
    }

    public func remove() throws { try DurableFiles.remove(path) }

    /// Reads the journal. A last record cut short (the process died while writing it) is ignored: its
    /// step had not started, because nothing changes before its record is complete on disk.
    public func load() throws -> Contents? {
        guard let bytes = try DurableFiles.read(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = StateText.lines(text)
        // Only newline-terminated lines are whole; what follows the last newline is a torn write.
        lines.removeLast()
        var contents = Contents(header: nil, intents: [])
        var index = 0
        func damaged() -> EngineError {
            .corruptState("""
                \(path) line \(index + 1) is not a journal record, so the interrupted run it records cannot be \
                undone automatically. Compare the host with `lvs-node status` and the journal's change lines by hand, \
                then move the journal aside
                """)
        }
        while index < lines.count {
            let fields = StateText.fields(lines[index])
            switch fields.first {
            case "begin":
                guard fields.count == 3, let command = Header.Command(rawValue: String(fields[1])),
                      let generation = Int(fields[2]), (1...GenerationStore.maximumNumber).contains(generation) else { throw damaged() }
                contents.header = Header(command: command, generation: generation)
            case "intent":
                // Every number is bounded before it moves the index: a negative or huge count would loop or trap.
                guard fields.count == 3, let count = Int(fields[2]), count > 0 else { throw damaged() }
                let remaining = lines.count - index - 1
                guard count <= remaining else {
                    // A torn last intent: its step never started. Anything after it is damage.
                    guard lines[(index + 1)...].allSatisfy({ StateText.fields($0).first == "change" }) else { throw damaged() }
                    return contents
                }
                var changes: [Change] = []
                changes.reserveCapacity(count)
                for offset in 1...count {
                    do {
                        changes.append(try StateText.decodeChange(StateText.fields(lines[index + offset])))
                    } catch {
                        index += offset
                        throw damaged()
                    }
                }
                contents.intents.append((StateText.unescape(fields[1]), changes))
                index += count
            case "applied":
                guard fields.count == 2 else { throw damaged() }
                contents.appliedCount += 1
            default:
                throw damaged()
            }
            index += 1
        }
        return contents
    }

    private func append(_ record: [UInt8], flush: Bool) throws {
        try DurableFiles.append(path, record, sync: flush)
        afterAppend?()
    }
}
