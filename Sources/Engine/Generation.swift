import Glibc
import HostAccess
import Synchronization

/// One applied `setup`: the spec, the desired state of every step, and the changes with their prior
/// states. Rolling it back applies those changes in reverse.
public struct Generation: Sendable {
    public var number: Int
    public var created: String
    /// The spec as YAML, for people and for `history`.
    public var spec: String {
        get { specSection.value }
        set { specSection = LazySection(newValue) }
    }
    public var summary: String
    public var steps: [DesiredStep] {
        get { stepsSection.value.steps }
        set { stepsSection = LazySection(StepsRead(steps: newValue)); carriedSteps = nil; fileBytes = nil }
    }
    public var changes: [Change] {
        get { changesSection.value }
        set { changesSection = LazySection(newValue); changeCount = newValue.count }
    }
    /// How many changes it made, known without decoding them (`history` lists every generation's count).
    public private(set) var changeCount: Int
    /// For every subject lvs-node has changed in the generations in force up to this one, its state
    /// before the first such change. Carried forward so a run reads only the current generation.
    public var baseline: [String: String?] {
        get { baselineSection.value }
        set { baselineSection = LazySection(newValue); carried = nil; baselineRecords = nil }
    }
    /// When it was rolled back; nil while it is in force.
    public var rolledBack: String?
    /// Why, when lvs-node rolled it back by itself (a change not confirmed in time); nil when by hand.
    public var rolledBackBecause: String?
    /// The spec holds a secret (a VRRP password): kept, like private states, where only root reads it.
    public var specIsPrivate = false
    /// A private spec with its secret masked, kept in the generation so `show` has something to print
    /// to a user who may not read the private store.
    public var maskedSpec: String?
    /// Whether its changes, or its baseline, have been decoded from the file yet.
    var changesAreDecoded: Bool { changesSection.isDecoded }
    var baselineIsDecoded: Bool { baselineSection.isDecoded }
    /// Read from a file, these four are decoded when first asked for (see `LazySection`).
    private var specSection: LazySection<String>
    private var stepsSection: LazySection<StepsRead>
    /// Read from a file: the file's bytes, for the next generation to copy the records it repeats.
    private var fileBytes: [UInt8]?
    /// A new generation on top of one read from a file: that one's bytes and steps (with where each
    /// desired record stands in its file), so records equal to it are copied instead of escaped again.
    private var carriedSteps: (bytes: [UInt8], read: LazySection<StepsRead>)?
    private var changesSection: LazySection<[Change]>
    private var baselineSection: LazySection<[String: String?]>
    /// Read from a file: its baseline records as they are there, for `baselineStates` and for the next
    /// generation to carry forward.
    private var baselineRecords: BaselineRecords?
    /// A new generation on top of one read from a file: that file's baseline records and the keys this
    /// one adds (first change of each wins), written as a merge instead of the whole table sorted again.
    private var carried: (previous: BaselineRecords, additions: [(key: String, before: String?)])?

    /// A new generation on top of `previous` (the one in force, if any).
    public init(number: Int, created: String, spec: String, summary: String, steps: [DesiredStep],
                changes: [Change], previous: Generation?) {
        self.number = number
        self.created = created
        self.summary = summary
        stepsSection = LazySection(StepsRead(steps: steps))
        if let previous, let bytes = previous.fileBytes, previous.stepsSection.isDecoded {
            carriedSteps = (bytes, previous.stepsSection)
        }
        specSection = LazySection(spec)
        changesSection = LazySection(changes)
        changeCount = changes.count
        guard let previous, let records = previous.baselineRecords else {
            var baseline = previous?.baseline ?? [:]
            for change in changes {
                let key = Planner.key(change.kind, change.subject)
                if baseline[key] == nil { baseline[key] = .some(change.before) }
            }
            baselineSection = LazySection(baseline)
            return
        }
        // The previous baseline stays as its file has it; only the keys it lacks are added. Which it
        // lacks is found without decoding it when the changes are few (one service changed).
        var keys: [String] = [], seen = Set<String>(), befores: [String?] = []
        for change in changes {
            let key = Planner.key(change.kind, change.subject)
            guard seen.insert(key).inserted else { continue }
            keys.append(key)
            befores.append(change.before)
        }
        let present: Set<String> = keys.count <= 64 ? Set(records.states(of: keys).keys)
                                                    : Set(keys.filter { previous.baseline[$0] != nil })
        let additions = zip(keys, befores).filter { !present.contains($0.0) }.map { (key: $0.0, before: $0.1) }
        carried = (records, additions)
        let previousSection = previous.baselineSection
        baselineSection = LazySection {
            var baseline = previousSection.value
            for (key, before) in additions { baseline[key] = .some(before) }
            return baseline
        }
    }

    /// The baseline states of those of `keys` that have one (as `baseline` has them): read from a
    /// file, a few are found there without decoding the whole baseline.
    public func baselineStates(of keys: [String]) -> [String: String?] {
        if let baselineRecords, !baselineSection.isDecoded { return baselineRecords.states(of: keys) }
        let all = baseline
        return Dictionary(keys.compactMap { key in all[key].map { (key, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    public var isApplied: Bool { rolledBack == nil }

    /// The record as `StateText` lines, in a fixed order, between a `format` record and an `end`
    /// record holding a checksum of everything before it: a truncated or edited generation is
    /// detected instead of read as one that changed less.
    var text: String { String(decoding: bytes { _, _ in nil }, as: UTF8.self) }

    /// `privately(kind, value)` returns the field that stands for a value which must not be
    /// world-readable (`@REFERENCE` to where it was kept), or nil to write the value in place; kind nil
    /// is the spec. Written straight into bytes: a generation of a thousand VIPs has thousands of records.
    func bytes(privately: (String?, String) throws -> String?) rethrows -> [UInt8] {
        var out = StateTextWriter(capacity: 64 * (steps.reduce(0) { $0 + $1.desired.count } + 2 * changes.count) + 2 * spec.utf8.count)
        func value(_ kind: String, _ value: String?) throws {
            if let value, let reference = try privately(kind, value) { out.plainField(reference) } else { out.optionalField(value) }
        }
        out.record("format"); out.plainField(String(Self.format)); out.endRecord()
        out.record("generation"); out.plainField(String(number)); out.endRecord()
        out.record("created"); out.field(created); out.endRecord()
        out.record("summary"); out.field(summary); out.endRecord()
        if let reference = try privately(nil, spec) {
            out.record("spec-private"); out.plainField(reference); out.endRecord()
            if let maskedSpec { out.record("spec-masked"); out.field(maskedSpec); out.endRecord() }
        } else {
            out.record("spec"); out.field(spec); out.endRecord()
        }
        let previous = carriedSteps.map { ($0.bytes, $0.read.value) }
        var firstLine = 0   // of the previous generation's step at the same index
        for (index, step) in steps.enumerated() {
            out.record("step"); out.field(step.name); out.field(step.kind); out.endRecord()
            func fresh(_ desired: Desired) throws {
                out.record("desired"); out.field(desired.subject); try value(step.kind, desired.state); out.endRecord()
            }
            guard let (bytes, read) = previous, index < read.steps.count, read.steps[index].name == step.name,
                  read.steps[index].kind == step.kind, read.desiredLines.count >= firstLine + read.steps[index].desired.count else {
                for desired in step.desired { try fresh(desired) }
                firstLine += previous.map { index < $0.1.steps.count ? $0.1.steps[index].desired.count : 0 } ?? 0
                continue
            }
            let old = read.steps[index].desired
            try bytes.withUnsafeBufferPointer { buffer in
                // Runs of records equal to the previous step's, at the same places, are copied whole.
                var run: Range<Int>?
                func flush() {
                    if let copied = run { out.plain(UnsafeBufferPointer(rebasing: buffer[copied])) }
                    run = nil
                }
                for (place, desired) in step.desired.enumerated() {
                    guard place < old.count, old[place] == desired else { flush(); try fresh(desired); continue }
                    let line = read.desiredLines[firstLine + place]
                    // The state field as it would be written now: `!`, `=…` or the `@REFERENCE` privately gives.
                    let stateStart = (buffer[..<(line.upperBound - 1)].lastIndex(of: 9) ?? line.lowerBound) + 1
                    let same: Bool
                    if let state = desired.state {
                        if let reference = try privately(step.kind, state) {
                            same = buffer[stateStart..<(line.upperBound - 1)].elementsEqual(reference.utf8)
                        } else {
                            same = buffer[stateStart] == UInt8(ascii: "=")
                        }
                    } else {
                        same = true
                    }
                    guard same else { flush(); try fresh(desired); continue }
                    if let current = run, current.upperBound == line.lowerBound { run = current.lowerBound..<line.upperBound } else { flush(); run = line }
                }
                flush()
            }
            firstLine += old.count
        }
        for change in changes {
            out.record("change"); out.field(change.kind); out.field(change.subject)
            try value(change.kind, change.before); try value(change.kind, change.after); out.endRecord()
        }
        func baselineRecord(_ key: String, _ before: String?) throws {
            let kind = String(Substring(key.utf8.prefix { $0 != UInt8(ascii: " ") }))
            out.record("baseline"); out.field(key); try value(kind, before); out.endRecord()
        }
        let merged = try carried.map { try Self.merge($0.previous, $0.additions, copy: { out.plain($0) }, record: baselineRecord) } ?? false
        if !merged {
            for (key, before) in baseline.sorted(by: { $0.key < $1.key }) { try baselineRecord(key, before) }
        }
        let checksum = Checksum.fnv1a64(out.bytes[...])
        out.record("end"); out.plainField(checksum); out.endRecord()
        return out.bytes
    }

    /// Writes the previous file's baseline records with `additions` merged in, in key order: what sorting
    /// the whole merged baseline writes, without sorting it. A record whose state is absent (`!`, every
    /// subject lvs-node added) is copied as it is; any other is written again through `record`, so
    /// private values go where they go today. When the records are not as this
    /// release writes them (`BaselineRecords.sortedLines`) or a key added would not sort by its bytes: false, nothing written.
    private static func merge(_ previous: BaselineRecords, _ additions: [(key: String, before: String?)],
                              copy: (UnsafeBufferPointer<UInt8>) -> Void, record: (String, String?) throws -> Void) rethrows -> Bool {
        var added = additions.map { (key: Array($0.key.utf8), before: $0.before) }
        guard added.allSatisfy({ $0.key.withUnsafeBufferPointer(BaselineRecords.sortsAsText) }), let lines = previous.sortedLines() else { return false }
        added.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var next = 0
        try previous.bytes.withUnsafeBufferPointer { buffer in
            func addUpTo(_ key: Range<Int>?) throws {
                while next < added.count, key.map({ old in added[next].key.withUnsafeBufferPointer { BaselineRecords.compare($0, UnsafeBufferPointer(rebasing: buffer[old])) < 0 } }) ?? true {
                    try record(String(decoding: added[next].key, as: UTF8.self), added[next].before)
                    next += 1
                }
            }
            for (line, key) in lines {
                try addUpTo(key)
                if line.count >= 3 && buffer[line.upperBound - 3] == 9 && buffer[line.upperBound - 2] == UInt8(ascii: "!") {
                    copy(UnsafeBufferPointer(rebasing: buffer[line]))
                } else {
                    var before: String?
                    StateText.scan(previous.bytes[line]) { before = $0.checkedOptional(2, references: previous.references) }
                    try record(String(decoding: UnsafeBufferPointer(rebasing: buffer[key]), as: UTF8.self), before)
                }
            }
            try addUpTo(nil)
        }
        return true
    }

    /// Generations written before the `format`/`end` records (format 1) are read without a checksum.
    static let format = 2

    /// Throws `Damaged` saying what is wrong. `resolve` gives the value kept under a `@REFERENCE`.
    init(bytes: [UInt8], resolve: (Substring) throws -> String = { _ in PrivateState.unreadable }) throws {
        var body = bytes[...]
        if bytes.starts(with: Array("format\t".utf8)) || bytes.starts(with: Array("format\n".utf8)) {
            var formatEnd = 0
            while formatEnd < bytes.count && bytes[formatEnd] != 10 { formatEnd += 1 }
            let formatFields = bytes[..<formatEnd].split(separator: 9, omittingEmptySubsequences: false)
            guard formatFields.count == 2, formatFields[1].elementsEqual(String(Self.format).utf8) else {
                let given = formatFields.dropFirst().map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
                throw Damaged("it is in a format this lvs-node does not know (\(given))")
            }
            // The end record is the last line: everything before its first byte is checksummed.
            guard bytes.last == 10 else { throw Damaged("its end record is missing: the file was cut short") }
            var cut = bytes.count - 1
            while cut > 0 && bytes[cut - 1] != 10 { cut -= 1 }
            let end = bytes[cut..<(bytes.count - 1)].split(separator: 9, omittingEmptySubsequences: false)
            guard cut > formatEnd, end.count == 2, end[0].elementsEqual("end".utf8) else {
                throw Damaged("its end record is missing: the file was cut short")
            }
            guard Checksum.fnv1a64(bytes[..<cut]).utf8.elementsEqual(end[1]) else {
                throw Damaged("its checksum does not match its contents: records were changed or removed")
            }
            body = bytes[(formatEnd + 1)..<cut]
        }
        var number: Int?, created: String?, summary = "", specIsPrivate = false, maskedSpec: String?
        var spec: Range<Int>?, privateSpec: String?
        // The steps, the changes and the baseline are checked now (shape, markers, private values) and
        // made into Strings only when a run asks for them: a no-op needs the steps, a rollback the
        // changes. Kept: where their records are, and the private values resolved.
        var stepLines: Range<Int>?, changeLines: Range<Int>?, baselineLines: Range<Int>?
        var stepCount = 0, desiredCount = 0, changeCount = 0, baselineCount = 0
        var references: [Int: String] = [:]
        func including(_ lines: Range<Int>?, _ line: Range<Int>) -> Range<Int> {
            lines.map { $0.lowerBound..<line.upperBound } ?? line
        }
        try StateText.scan(body) { record in
            let count = record.count
            // The records a large generation has thousands of come first.
            if count == 3 && record.field(0, is: "desired") {
                guard stepCount > 0 else { throw Damaged("a desired state stands before any step") }
                try record.checkOptional(2, references: &references, reference: resolve)
                stepLines = including(stepLines, record.line)
                desiredCount += 1
            } else if count == 3 && record.field(0, is: "baseline") {
                try record.checkOptional(2, references: &references, reference: resolve)
                baselineLines = including(baselineLines, record.line)
                baselineCount += 1
            } else if count == 5 && record.field(0, is: "change") {
                try record.checkOptional(3, references: &references, reference: resolve)
                try record.checkOptional(4, references: &references, reference: resolve)
                changeLines = including(changeLines, record.line)
                changeCount += 1
            } else if count == 3 && record.field(0, is: "step") {
                stepLines = including(stepLines, record.line)
                stepCount += 1
            } else if count == 2 && record.field(0, is: "generation") {
                let text = record.string(1)
                guard let value = Int(text), (1...GenerationStore.maximumNumber).contains(value) else {
                    throw Damaged("its generation number '\(text.prefix(20))' is not one lvs-node writes")
                }
                number = value
            } else if count == 2 && record.field(0, is: "created") {
                created = record.string(1)
            } else if count == 2 && record.field(0, is: "summary") {
                summary = record.string(1)
            } else if count == 2 && record.field(0, is: "spec") {
                spec = record.position(1)..<(record.line.upperBound - 1)
                privateSpec = nil
            } else if count == 2 && record.field(0, is: "spec-private") {
                privateSpec = try resolve(Substring(record.string(1).dropFirst()))
                specIsPrivate = true
            } else if count == 2 && record.field(0, is: "spec-masked") {
                maskedSpec = record.string(1)
            } else if count > 0 {
                throw Damaged("it has a record it cannot read ('\(record.string(0).prefix(40))')")
            }
        }
        guard let number, let created else { throw Damaged("its generation number or date is missing") }
        self.number = number
        self.created = created
        self.summary = summary
        self.specIsPrivate = specIsPrivate
        self.maskedSpec = maskedSpec
        self.changeCount = changeCount
        if let privateSpec {
            specSection = LazySection(privateSpec)
        } else if let spec {
            specSection = LazySection { bytes[spec].withUnsafeBufferPointer { StateText.text($0) } }
        } else {
            specSection = LazySection("")
        }
        stepsSection = LazySection { [references, stepLines, stepCount, desiredCount] in
            var read = StepsRead(steps: [])
            guard let stepLines else { return read }
            read.steps.reserveCapacity(stepCount)
            read.desiredLines.reserveCapacity(desiredCount)
            // Each step's desired states are gathered apart and put in once: appending to the step
            // inside the array would copy its list on every append.
            var desired: [Desired] = []
            desired.reserveCapacity(desiredCount)
            StateText.scan(bytes[stepLines]) { record in
                if record.count == 3 && record.field(0, is: "desired") {
                    desired.append(Desired(subject: record.string(1), state: record.checkedOptional(2, references: references)))
                    read.desiredLines.append(record.line)
                } else if record.count == 3 && record.field(0, is: "step") {
                    if !read.steps.isEmpty { read.steps[read.steps.count - 1].desired = desired; desired = [] }
                    read.steps.append(DesiredStep(name: record.string(1), kind: record.string(2), desired: []))
                }
            }
            if !read.steps.isEmpty { read.steps[read.steps.count - 1].desired = desired }
            return read
        }
        fileBytes = bytes
        changesSection = LazySection { [references, changeLines, changeCount] in
            var changes: [Change] = []
            guard let changeLines else { return changes }
            changes.reserveCapacity(changeCount)
            StateText.scan(bytes[changeLines]) { record in
                guard record.count == 5 && record.field(0, is: "change") else { return }
                changes.append(Change(kind: record.string(1), subject: record.string(2),
                                      before: record.checkedOptional(3, references: references),
                                      after: record.checkedOptional(4, references: references)))
            }
            return changes
        }
        let baselineRecords = BaselineRecords(bytes: bytes, lines: baselineLines, count: baselineCount, references: references)
        self.baselineRecords = baselineRecords
        baselineSection = LazySection { baselineRecords.all() }
    }
}

/// A generation's steps and, read from a file, where each desired record's line stands in it (in the
/// order of the steps' desired states).
struct StepsRead: Sendable {
    var steps: [DesiredStep]
    var desiredLines: [Range<Int>] = []
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
        // The marker holds the date, and on a second line why, when lvs-node did it by itself.
        if let marker = try DurableFiles.read(path(number) + Self.rolledBackSuffix) {
            let lines = marker.prefix(512).split(separator: 10, maxSplits: 1)
            generation.rolledBack = String(decoding: lines.first ?? [], as: UTF8.self).trimmingWhitespace()
            let because = String(decoding: lines.dropFirst().first ?? [], as: UTF8.self).trimmingWhitespace()
            generation.rolledBackBecause = because.isEmpty ? nil : because
        }
        return generation
    }

    /// Records a new generation, or marks one rolled back. `isPrivate(kind, state)` says which states
    /// go to the private directory (each under the name of its checksum) instead of the generation.
    public func save(_ generation: Generation, isPrivate: (String, String) -> Bool = { _, _ in false }) throws {
        try DurableFiles.makeDirectories(directory, mode: 0o755)
        if let rolledBack = generation.rolledBack {
            let because = generation.rolledBackBecause.map { $0.filter { $0 != "\n" } + "\n" } ?? ""
            try DurableFiles.writeAtomically(path(generation.number) + Self.rolledBackSuffix, Array((rolledBack + "\n" + because).utf8), mode: 0o644)
            return
        }
        var kept: [String: String] = [:]
        let bytes = generation.bytes { kind, value in
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
        try DurableFiles.writeAtomically(path(generation.number), bytes, mode: 0o644)
        // What decoding the file would give: the drain check after the run reads it again.
        var saved = generation
        if !saved.specIsPrivate { saved.maskedSpec = nil }
        LastDecoded.keep(saved, path: path(generation.number), bytes: bytes)
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
        do {
            guard let bytes = try DurableFiles.read(path) else { throw Damaged("it disappeared while being read") }
            if let known = LastDecoded.generation(path: path, bytes: bytes) { return known }
            let generation = try Generation(bytes: bytes, resolve: privateValue)
            LastDecoded.keep(generation, path: path, bytes: bytes)
            return generation
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

/// The generation this process last decoded or saved, with the exact bytes of its file. A run reads the
/// generation in force more than once (to plan, then to see whether real servers drain), and decoding
/// one of a thousand VIPs costs ~9M instructions; comparing its 150 KB costs almost nothing. Bytes, not
/// file times: an edit within the same clock tick would keep the times.
enum LastDecoded {
    private static let last = Mutex<(path: String, bytes: [UInt8], generation: Generation)?>(nil)

    static func generation(path: String, bytes: [UInt8]) -> Generation? {
        last.withLock { kept -> Generation? in
            guard let kept, kept.path == path, kept.bytes.count == bytes.count else { return nil }
            let same = kept.bytes.withUnsafeBytes { a in
                bytes.withUnsafeBytes { b in a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
            }
            return same ? kept.generation : nil
        }
    }

    static func keep(_ generation: Generation, path: String, bytes: [UInt8]) {
        last.withLock { $0 = (path, bytes, generation) }
    }
}

/// FNV-1a, 64 bits, as 16 hex digits: enough to notice a cut or edited state file (not an attacker).
enum Checksum {
    static func fnv1a64(_ bytes: [UInt8]) -> String { fnv1a64(bytes[...]) }

    static func fnv1a64(_ bytes: ArraySlice<UInt8>) -> String {
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
