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
    /// The spec holds a secret (a VRRP password): kept, like private states, where only root reads it.
    public var specIsPrivate = false
    /// A private spec with its secret masked, kept in the generation so `show` has something to print
    /// to a user who may not read the private store.
    public var maskedSpec: String?

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

    /// The record as `StateText` lines, in a fixed order, between a `format` record and an `end`
    /// record holding a checksum of everything before it: a truncated or edited generation is
    /// detected instead of read as one that changed less.
    var text: String { text { _, _ in nil } }

    /// `privately(kind, value)` returns the field that stands for a value which must not be
    /// world-readable (`@REFERENCE` to where it was kept), or nil to write the value in place; kind nil
    /// is the spec.
    func text(privately: (String?, String) throws -> String?) rethrows -> String {
        func field(_ kind: String, _ value: String?) throws -> String {
            guard let value else { return "!" }
            return try privately(kind, value) ?? StateText.optional(value)
        }
        var out = StateText.line("format", String(Self.format))
        out += StateText.line("generation", String(number))
        out += StateText.line("created", StateText.escape(created))
        out += StateText.line("summary", StateText.escape(summary))
        if let reference = try privately(nil, spec) {
            out += StateText.line("spec-private", reference)
            if let maskedSpec { out += StateText.line("spec-masked", StateText.escape(maskedSpec)) }
        } else {
            out += StateText.line("spec", StateText.escape(spec))
        }
        for step in steps {
            out += StateText.line("step", StateText.escape(step.name), StateText.escape(step.kind))
            for desired in step.desired {
                out += StateText.line("desired", StateText.escape(desired.subject), try field(step.kind, desired.state))
            }
        }
        for change in changes {
            out += StateText.line("change", StateText.escape(change.kind), StateText.escape(change.subject),
                                  try field(change.kind, change.before), try field(change.kind, change.after))
        }
        for (key, before) in baseline.sorted(by: { $0.key < $1.key }) {
            out += StateText.line("baseline", StateText.escape(key), try field(String(key.prefix { $0 != " " }), before))
        }
        return out + StateText.line("end", Checksum.fnv1a64(Array(out.utf8)))
    }

    /// Generations written before the `format`/`end` records (format 1) are read without a checksum.
    static let format = 2

    /// Throws `Damaged` saying what is wrong. `resolve` gives the value kept under a `@REFERENCE`.
    init(bytes: [UInt8], resolve: (Substring) throws -> String = { _ in PrivateState.unreadable }) throws {
        var records = StateText.records(bytes)
        if records.first?.first == "format" {
            guard records[0].count == 2, records[0][1] == String(Self.format) else {
                throw Damaged("it is in a format this lvs-node does not know (\(records[0].dropFirst().joined(separator: " ")))")
            }
            guard let end = records.last, end.count == 2, end[0] == "end" else {
                throw Damaged("its end record is missing: the file was cut short")
            }
            // The end record is the last line: everything before its first byte is checksummed.
            var cut = bytes.count - 1
            while cut > 0 && bytes[cut - 1] != 10 { cut -= 1 }
            guard Checksum.fnv1a64(Array(bytes[..<cut])) == end[1] else {
                throw Damaged("its checksum does not match its contents: records were changed or removed")
            }
            records = Array(records.dropFirst().dropLast())
        }
        func value(_ field: String) throws -> String? {
            field.first == "@" ? try resolve(Substring(field.dropFirst())) : try StateText.optional(field)
        }
        var number: Int?, created: String?, summary = "", spec = "", specIsPrivate = false, maskedSpec: String?
        var steps: [DesiredStep] = [], changes: [Change] = [], baseline: [String: String?] = [:]
        for fields in records where !fields.isEmpty {
            switch (fields[0], fields.count) {
            case ("generation", 2):
                guard let value = Int(fields[1]), (1...GenerationStore.maximumNumber).contains(value) else {
                    throw Damaged("its generation number '\(fields[1].prefix(20))' is not one lvs-node writes")
                }
                number = value
            case ("created", 2): created = fields[1]
            case ("summary", 2): summary = fields[1]
            case ("spec", 2): spec = fields[1]
            case ("spec-private", 2):
                spec = try resolve(Substring(fields[1].dropFirst()))
                specIsPrivate = true
            case ("spec-masked", 2): maskedSpec = fields[1]
            case ("step", 3): steps.append(DesiredStep(name: fields[1], kind: fields[2], desired: []))
            case ("desired", 3):
                guard !steps.isEmpty else { throw Damaged("a desired state stands before any step") }
                steps[steps.count - 1].desired.append(Desired(subject: fields[1], state: try value(fields[2])))
            case ("change", 5):
                changes.append(Change(kind: fields[1], subject: fields[2], before: try value(fields[3]), after: try value(fields[4])))
            case ("baseline", 3): baseline[fields[1]] = .some(try value(fields[2]))
            default: throw Damaged("it has a record it cannot read ('\(fields[0].prefix(40))')")
            }
        }
        guard let number, let created else { throw Damaged("its generation number or date is missing") }
        self.number = number
        self.created = created
        self.spec = spec
        self.summary = summary
        self.steps = steps
        self.changes = changes
        self.baseline = baseline
        self.specIsPrivate = specIsPrivate
        self.maskedSpec = maskedSpec
    }
}

/// What is wrong with a generation record.
struct Damaged: Error {
    let detail: String
    init(_ detail: String) { self.detail = detail }
}

/// The numbered generations in `<state-dir>/generations/`, one `StateText` file each, written
/// atomically and never rewritten; rolling one back adds a marker `000007.rolled-back` holding the
/// date. The names alone say which is in force, so a run decodes only that one, however long the
/// history, and a rollback writes a few bytes rather than the whole record again.
public struct GenerationStore {
    public let directory: String
    /// Where private values (a 0600 file's content, a spec holding a password) are kept, 0700: the
    /// generations themselves are readable by anyone, so `status` and `history` need no privileges.
    public var privateDirectory: String { DurableFiles.parent(of: directory) + "/private" }
    private static let rolledBackSuffix = ".rolled-back"
    /// Names are six digits: numbers stay in a range no arithmetic on them can overflow.
    public static let maximumNumber = 999_999

    public init(directory: String) { self.directory = directory }

    /// The newest generation still in force.
    public func current() throws -> Generation? {
        let (all, rolledBack) = try numbers()
        guard let newest = all.subtracting(rolledBack).max() else { return nil }
        return try decode(newest)
    }

    public func nextNumber() throws -> Int {
        let next = (try numbers().all.max() ?? 0) + 1
        guard next <= Self.maximumNumber else {
            throw EngineError.corruptState("\(directory) already holds generation \(Self.maximumNumber), the last number there is; move old generations elsewhere")
        }
        return next
    }

    /// The highest generation number there is, applied or rolled back (0 when there is none).
    public func newestNumber() throws -> Int { try numbers().all.max() ?? 0 }

    /// The newest generation in force numbered below `number` (nil: none).
    public func applied(below number: Int) throws -> Int? {
        let (all, rolledBack) = try numbers()
        return all.subtracting(rolledBack).filter { $0 < number }.max()
    }

    /// Every generation, oldest first (for `history`).
    public func all() throws -> [Generation] {
        try numbers().all.sorted().compactMap { try load($0) }
    }

    /// One generation, with the date it was rolled back if it was.
    public func load(_ number: Int) throws -> Generation? {
        guard DurableFiles.exists(path(number)) else { return nil }
        var generation = try decode(number)
        if let marker = try DurableFiles.read(path(number) + Self.rolledBackSuffix) {
            generation.rolledBack = String(decoding: marker.prefix(64), as: UTF8.self).trimmingWhitespace()
        }
        return generation
    }

    /// Records a new generation, or marks one rolled back. `isPrivate(kind, state)` says which states
    /// go to the private directory (each under the name of its checksum) instead of the generation.
    public func save(_ generation: Generation, isPrivate: (String, String) -> Bool = { _, _ in false }) throws {
        try DurableFiles.makeDirectories(directory, mode: 0o755)
        if let rolledBack = generation.rolledBack {
            try DurableFiles.writeAtomically(path(generation.number) + Self.rolledBackSuffix, Array((rolledBack + "\n").utf8), mode: 0o644)
            return
        }
        var kept: [String: String] = [:]
        let text = generation.text { kind, value in
            guard kind.map({ isPrivate($0, value) }) ?? generation.specIsPrivate else { return nil }
            let name = Self.privateName(value)
            kept[name] = value
            return "@" + name
        }
        if !kept.isEmpty {
            try DurableFiles.makeDirectories(privateDirectory, mode: 0o700)
            for (name, value) in kept.sorted(by: { $0.key < $1.key }) where !DurableFiles.exists("\(privateDirectory)/\(name)") {
                try DurableFiles.writeAtomically("\(privateDirectory)/\(name)", Array(value.utf8), mode: 0o600)
            }
        }
        try DurableFiles.writeAtomically(path(generation.number), Array(text.utf8), mode: 0o644)
    }

    /// A private value's file name: two FNV-1a checksums of it (128 bits; the values are lvs-node's own).
    static func privateName(_ value: String) -> String {
        let bytes = Array(value.utf8)
        return Checksum.fnv1a64(bytes) + Checksum.fnv1a64(bytes.reversed())
    }

    /// The value kept under `name`; `PrivateState.unreadable` when this process may not read it.
    private func privateValue(_ name: Substring) throws -> String {
        let path = "\(privateDirectory)/\(name)"
        let bytes: [UInt8]?
        do {
            bytes = try DurableFiles.read(path)
        } catch let error as HostError where error.code == .errno(EACCES) {
            return PrivateState.unreadable
        }
        guard let bytes else { throw Damaged("the private value it refers to (\(path)) is missing") }
        let value = String(decoding: bytes, as: UTF8.self)
        guard Self.privateName(value) == name else { throw Damaged("the private value \(path) does not match its name") }
        return value
    }

    /// Takes back a `save` of the run that failed after it: the new generation's file, or the
    /// rolled-back marker.
    public func retract(_ generation: Generation) throws {
        try DurableFiles.remove(path(generation.number) + (generation.rolledBack == nil ? "" : Self.rolledBackSuffix))
    }

    /// A generation file's number: six digits, nothing else.
    static func number<S: StringProtocol>(_ name: S) -> Int? {
        guard name.utf8.count == 6, name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(name)
    }

    private func numbers() throws -> (all: Set<Int>, rolledBack: Set<Int>) {
        var all = Set<Int>(), rolledBack = Set<Int>()
        for name in try DurableFiles.list(directory) {
            if name.hasSuffix(Self.rolledBackSuffix), let number = Self.number(name.dropLast(Self.rolledBackSuffix.count)) {
                rolledBack.insert(number)
            } else if let number = Self.number(name) {
                all.insert(number)
            } else if !name.isEmpty && name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                throw EngineError.corruptState("\(directory)/\(name) is not a generation lvs-node wrote (generations are numbered 000001 to 999999); move it out of that directory")
            }
            // Anything else (an interrupted write's temporary file, an editor's backup) is not a generation.
        }
        return (all, rolledBack)
    }

    private func decode(_ number: Int) throws -> Generation {
        let path = path(number)
        let bytes: [UInt8]
        do {
            guard let read = try DurableFiles.read(path) else { throw Damaged("it disappeared while being read") }
            bytes = read
            return try Generation(bytes: bytes, resolve: privateValue)
        } catch let damaged as Damaged {
            throw EngineError.damagedGeneration(path: path, number: number, detail: damaged.detail)
        } catch is StateText.Malformed {
            throw EngineError.damagedGeneration(path: path, number: number, detail: "a state in it is malformed")
        }
    }

    private func path(_ number: Int) -> String {
        let digits = String(number)
        return "\(directory)/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

/// FNV-1a, 64 bits, as 16 hex digits: enough to notice a cut or edited state file (not an attacker).
enum Checksum {
    static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

public enum Clock {
    /// UTC now as ISO 8601 (`2026-11-23T20:03:36Z`), without loading a date formatter.
    public static func now() -> String { WallClock.text(WallClock.seconds()) }
}
