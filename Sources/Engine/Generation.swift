import Foundation
import HostAccess

/// One applied `setup`: the spec, the desired state of every step, and the changes with their prior
/// states. Rolling it back applies those changes in reverse.
public struct Generation: Codable, Sendable {
    public var number: Int
    public var created: String
    /// The spec as YAML, for people and for `history`.
    public var spec: String
    public var summary: String
    public var steps: [DesiredStep]
    public var changes: [Change]
    /// When it was rolled back; nil while it is in force.
    public var rolledBack: String?

    public init(number: Int, created: String, spec: String, summary: String, steps: [DesiredStep], changes: [Change]) {
        self.number = number
        self.created = created
        self.spec = spec
        self.summary = summary
        self.steps = steps
        self.changes = changes
    }

    public var isApplied: Bool { rolledBack == nil }
}

/// The numbered generations in `<state-dir>/generations/`, one JSON file each, written atomically.
public struct GenerationStore {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func all() throws -> [Generation] {
        let decoder = JSONDecoder()
        return try DurableFiles.list(directory).filter { $0.hasSuffix(".json") }.map { name in
            let path = "\(directory)/\(name)"
            guard let bytes = try DurableFiles.read(path),
                  let generation = try? decoder.decode(Generation.self, from: Data(bytes)) else {
                throw EngineError.corruptState("\(path) is not a generation record")
            }
            return generation
        }.sorted { $0.number < $1.number }
    }

    /// The newest generation still in force.
    public func current() throws -> Generation? { try all().last(where: \.isApplied) }

    public func nextNumber() throws -> Int { (try all().last?.number ?? 0) + 1 }

    public func save(_ generation: Generation) throws {
        try DurableFiles.makeDirectories(directory, mode: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFiles.writeAtomically(path(generation.number), [UInt8](try encoder.encode(generation)), mode: 0o600)
    }

    public func load(_ number: Int) throws -> Generation? {
        guard let bytes = try DurableFiles.read(path(number)) else { return nil }
        guard let generation = try? JSONDecoder().decode(Generation.self, from: Data(bytes)) else {
            throw EngineError.corruptState("\(path(number)) is not a generation record")
        }
        return generation
    }

    /// For each subject lvs-node has changed, its state before the first change still in force.
    public func baseline() throws -> [String: String?] {
        var result: [String: String?] = [:]
        for generation in try all() where generation.isApplied {
            for change in generation.changes {
                let key = Planner.key(change.kind, change.subject)
                if result[key] == nil { result[key] = .some(change.before) }
            }
        }
        return result
    }

    private func path(_ number: Int) -> String {
        let digits = String(number)
        return "\(directory)/\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits).json"
    }
}

public enum Clock {
    public static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
