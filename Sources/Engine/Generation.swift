import Glibc
import HostAccess

/// One applied `setup`: the spec, the desired state of every step, and the changes with their prior
/// states. Rolling it back applies those changes in reverse.
public struct Generation: Sendable {
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

    /// The record as `StateText` lines, in a fixed order.
    var text: String {
        var out = StateText.line("generation", String(number))
        out += StateText.line("created", StateText.escape(created))
        out += StateText.line("summary", StateText.escape(summary))
        out += StateText.line("spec", StateText.escape(spec))
        for step in steps {
            out += StateText.line("step", StateText.escape(step.name), StateText.escape(step.kind))
            for desired in step.desired {
                out += StateText.line("desired", StateText.escape(desired.subject), StateText.optional(desired.state))
            }
        }
        for change in changes { out += StateText.encode(change) }
        for (key, before) in baseline.sorted(by: { $0.key < $1.key }) {
            out += StateText.line("baseline", StateText.escape(key), StateText.optional(before))
        }
        return out
    }

    init(bytes: [UInt8]) throws {
        var number: Int?, created: String?, summary = "", spec = ""
        var steps: [DesiredStep] = [], changes: [Change] = [], baseline: [String: String?] = [:]
        for fields in StateText.records(bytes) where !fields.isEmpty {
            switch (fields[0], fields.count) {
            case ("generation", 2): number = Int(fields[1])
            case ("created", 2): created = fields[1]
            case ("summary", 2): summary = fields[1]
            case ("spec", 2): spec = fields[1]
            case ("step", 3): steps.append(DesiredStep(name: fields[1], kind: fields[2], desired: []))
            case ("desired", 3):
                guard !steps.isEmpty else { throw StateText.Malformed() }
                steps[steps.count - 1].desired.append(Desired(subject: fields[1], state: try StateText.optional(fields[2])))
            case ("change", 5):
                changes.append(Change(kind: fields[1], subject: fields[2],
                                      before: try StateText.optional(fields[3]), after: try StateText.optional(fields[4])))
            case ("baseline", 3): baseline[fields[1]] = .some(try StateText.optional(fields[2]))
            default: throw StateText.Malformed()
            }
        }
        guard let number, let created else { throw StateText.Malformed() }
        self.number = number
        self.created = created
        self.spec = spec
        self.summary = summary
        self.steps = steps
        self.changes = changes
        self.baseline = baseline
    }
}

/// The numbered generations in `<state-dir>/generations/`, one `StateText` file each, written
/// atomically and never rewritten; rolling one back adds a marker `000007.rolled-back` holding the
/// date. The names alone say which is in force, so a run decodes only that one, however long the
/// history, and a rollback writes a few bytes rather than the whole record again.
public struct GenerationStore {
    public let directory: String
    private static let rolledBackSuffix = ".rolled-back"

    public init(directory: String) { self.directory = directory }

    /// The newest generation still in force.
    public func current() throws -> Generation? {
        let (all, rolledBack) = try numbers()
        guard let newest = all.subtracting(rolledBack).max() else { return nil }
        return try decode(path(newest))
    }

    public func nextNumber() throws -> Int { (try numbers().all.max() ?? 0) + 1 }

    /// Every generation, oldest first (for `history`).
    public func all() throws -> [Generation] {
        try numbers().all.sorted().compactMap { try load($0) }
    }

    /// One generation, with the date it was rolled back if it was.
    public func load(_ number: Int) throws -> Generation? {
        guard DurableFiles.exists(path(number)) else { return nil }
        var generation = try decode(path(number))
        if let marker = try DurableFiles.read(path(number) + Self.rolledBackSuffix) {
            generation.rolledBack = String(decoding: marker, as: UTF8.self).trimmingWhitespace()
        }
        return generation
    }

    /// Records a new generation, or marks one rolled back.
    public func save(_ generation: Generation) throws {
        try DurableFiles.makeDirectories(directory, mode: 0o700)
        if let rolledBack = generation.rolledBack {
            try DurableFiles.writeAtomically(path(generation.number) + Self.rolledBackSuffix, Array((rolledBack + "\n").utf8), mode: 0o600)
        } else {
            try DurableFiles.writeAtomically(path(generation.number), Array(generation.text.utf8), mode: 0o600)
        }
    }

    private func numbers() throws -> (all: Set<Int>, rolledBack: Set<Int>) {
        var all = Set<Int>(), rolledBack = Set<Int>()
        for name in try DurableFiles.list(directory) {
            if name.hasSuffix(Self.rolledBackSuffix), let number = Int(name.dropLast(Self.rolledBackSuffix.count)) {
                rolledBack.insert(number)
            } else if let number = Int(name) {
                all.insert(number)
            }
        }
        return (all, rolledBack)
    }

    private func decode(_ path: String) throws -> Generation {
        guard let bytes = try DurableFiles.read(path),
              let generation = try? Generation(bytes: bytes) else {
            throw EngineError.corruptState("\(path) is not a generation record")
        }
        return generation
    }

    private func path(_ number: Int) -> String {
        let digits = String(number)
        return "\(directory)/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

public enum Clock {
    /// UTC now as ISO 8601 (`2026-11-23T20:03:36Z`), without loading a date formatter.
    public static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
