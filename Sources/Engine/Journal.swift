import Foundation
import HostAccess

/// The write-ahead journal of one run: before a step changes anything, its changes with their prior
/// states are on disk; after it, a completion record. A run that ends normally removes the journal;
/// one that was killed leaves it, and `Recovery` undoes what it recorded.
public final class Journal {
    public struct Header: Codable, Equatable, Sendable {
        public enum Command: String, Codable, Sendable { case setup, rollback }
        public var command: Command
        public var generation: Int

        public init(command: Command, generation: Int) {
            self.command = command
            self.generation = generation
        }
    }

    /// One JSON line of the journal.
    struct Record: Codable {
        enum RecordType: String, Codable { case begin, intent, applied }
        var type: RecordType
        var header: Header?
        var step: String?
        var changes: [Change]?
    }

    /// What a journal left by an interrupted run holds.
    public struct Contents: Sendable {
        public var header: Header?
        public var intents: [(step: String, changes: [Change])]
        public var applied: Set<String>
    }

    public let path: String
    /// Called after each record is on disk; tests use it to stop the world at every record.
    var afterAppend: (() -> Void)?

    public init(path: String) {
        self.path = path
    }

    public var exists: Bool { DurableFiles.exists(path) }

    public func begin(_ header: Header) throws {
        try DurableFiles.remove(path)
        try append(Record(type: .begin, header: header))
    }

    public func intent(step: String, changes: [Change]) throws {
        try append(Record(type: .intent, step: step, changes: changes))
    }

    public func applied(step: String) throws {
        try append(Record(type: .applied, step: step))
    }

    public func remove() throws { try DurableFiles.remove(path) }

    /// Reads the journal. A last line cut short (the process died while writing it) is ignored: its
    /// step had not started, because nothing changes before its record is complete on disk.
    public func load() throws -> Contents? {
        guard let bytes = try DurableFiles.read(path) else { return nil }
        var contents = Contents(header: nil, intents: [], applied: [])
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let isLast = index == lines.count - 1  // no newline after it: a torn write
            guard let record = try? decoder.decode(Record.self, from: Data(line)) else {
                if isLast { break }
                throw EngineError.corruptState("\(path) line \(index + 1) is not a journal record")
            }
            if isLast { break }
            switch record.type {
            case .begin: contents.header = record.header
            case .intent: contents.intents.append((record.step ?? "", record.changes ?? []))
            case .applied: if let step = record.step { contents.applied.insert(step) }
            }
        }
        return contents
    }

    private func append(_ record: Record) throws {
        let encoder = JSONEncoder()
        var bytes = [UInt8](try encoder.encode(record))
        bytes.append(UInt8(ascii: "\n"))
        try DurableFiles.appendDurably(path, bytes)
        afterAppend?()
    }
}
