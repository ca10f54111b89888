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
    /// For every subject lvs-node has changed in the generations in force up to this one, its state
    /// before the first such change. Carried forward so a run reads only the current generation.
    public var baseline: [String: String?]
    /// When it was rolled back; nil while it is in force.
    public var rolledBack: String?

    /// A new generation on top of `previous` (the one in force, if any).
    public init(number: Int, created: String, spec: String, summary: String, steps: [DesiredStep],
                changes: [Change], previous: Generation?) {
        self.number = number
        self.created = created
        self.spec = spec
        self.summary = summary
        self.steps = steps
        self.changes = changes
        var baseline = previous?.baseline ?? [:]
        for change in changes {
            let key = Planner.key(change.kind, change.subject)
            if baseline[key] == nil { baseline[key] = .some(change.before) }
        }
        self.baseline = baseline
    }

    public var isApplied: Bool { rolledBack == nil }
}

/// The numbered generations in `<state-dir>/generations/`, one JSON file each, written atomically:
/// `000007.json` while in force, `000007.rolled-back.json` after. The names alone say which is in
/// force, so a run decodes only that one, however long the history.
public struct GenerationStore {
    public let directory: String
    private static let rolledBackSuffix = ".rolled-back.json"

    public init(directory: String) { self.directory = directory }

    /// The newest generation still in force.
    public func current() throws -> Generation? {
        let (applied, rolledBack) = try numbers()
        guard let newest = applied.subtracting(rolledBack).max() else { return nil }
        return try decode(path(newest, rolledBack: false))
    }

    public func nextNumber() throws -> Int {
        let (applied, rolledBack) = try numbers()
        return (applied.union(rolledBack).max() ?? 0) + 1
    }

    /// Every generation, oldest first (for `history`).
    public func all() throws -> [Generation] {
        let (applied, rolledBack) = try numbers()
        return try applied.union(rolledBack).sorted().compactMap { try load($0) }
    }

    /// One generation; its rolled-back record wins if a crash left both files.
    public func load(_ number: Int) throws -> Generation? {
        for rolledBack in [true, false] {
            let path = path(number, rolledBack: rolledBack)
            if DurableFiles.exists(path) { return try decode(path) }
        }
        return nil
    }

    public func save(_ generation: Generation) throws {
        try DurableFiles.makeDirectories(directory, mode: 0o700)
        let encoder = JSONEncoder()
        let bytes = [UInt8](try encoder.encode(generation))
        try DurableFiles.writeAtomically(path(generation.number, rolledBack: !generation.isApplied), bytes, mode: 0o600)
        if !generation.isApplied { try DurableFiles.remove(path(generation.number, rolledBack: false)) }
    }

    private func numbers() throws -> (applied: Set<Int>, rolledBack: Set<Int>) {
        var applied = Set<Int>(), rolledBack = Set<Int>()
        for name in try DurableFiles.list(directory) {
            if name.hasSuffix(Self.rolledBackSuffix), let number = Int(name.dropLast(Self.rolledBackSuffix.count)) {
                rolledBack.insert(number)
            } else if name.hasSuffix(".json"), let number = Int(name.dropLast(".json".count)) {
                applied.insert(number)
            }
        }
        return (applied, rolledBack)
    }

    private func decode(_ path: String) throws -> Generation {
        guard let bytes = try DurableFiles.read(path),
              let generation = try? JSONDecoder().decode(Generation.self, from: Data(bytes)) else {
            throw EngineError.corruptState("\(path) is not a generation record")
        }
        return generation
    }

    private func path(_ number: Int, rolledBack: Bool) -> String {
        let digits = String(number)
        let name = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        return "\(directory)/\(name)\(rolledBack ? Self.rolledBackSuffix : ".json")"
    }
}

public enum Clock {
    public static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
