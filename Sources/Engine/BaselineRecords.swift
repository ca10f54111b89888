import Glibc

/// The `baseline` records of a generation file, kept as the file's bytes: a director's baseline is
/// its whole table (11,000 records for 1000 services × 10 real servers), and a run that changes one
/// service needs the states of a few keys from it and the rest carried forward as it is. The file was
/// checked whole when it was read (records, private references resolved into `references`).
struct BaselineRecords: Sendable {
    let bytes: [UInt8]
    /// From the first baseline record's line to the end of the last one's (other records may stand
    /// between them in a file of an earlier release).
    let lines: Range<Int>?
    let count: Int
    /// Private values of the file's `@NAME` fields, by the field's position.
    let references: [Int: String]

    /// Every record: a later record of a key replaces an earlier one.
    func all() -> [String: String?] {
        var baseline: [String: String?] = [:]
        guard let lines else { return baseline }
        baseline.reserveCapacity(count)
        StateText.scan(bytes[lines]) { record in
            guard record.count == 3 && record.field(0, is: "baseline") else { return }
            baseline[record.string(1)] = .some(record.checkedOptional(2, references: references))
        }
        return baseline
    }

    /// The states of those of `keys` that have a record, as `all()` has them. A few keys are found in
    /// one pass over the records that makes no String of the others; many, through `all()`.
    func states(of keys: [String]) -> [String: String?] {
        guard keys.count <= 64 else {
            let all = all()
            return Dictionary(keys.compactMap { key in all[key].map { (key, $0) } }, uniquingKeysWith: { first, _ in first })
        }
        var found: [String: String?] = [:]
        guard let lines else { return found }
        let escaped = keys.map { Array(StateText.escape($0).utf8) }
        bytes.withUnsafeBufferPointer { buffer in
            _ = Self.eachRecord(buffer, lines, skippingOthers: true) { line, key in
                guard let index = escaped.firstIndex(where: { $0.count == key.count && memcmp(buffer.baseAddress! + key.lowerBound, $0, key.count) == 0 })
                else { return true }
                StateText.scan(bytes[line]) { found[keys[index]] = .some($0.checkedOptional(2, references: references)) }
                return true
            }
        }
        return found
    }

    /// The lines of the records and the bytes of their keys when they are as this release writes a
    /// baseline: nothing between them, one per key, in increasing order of keys that escaping leaves
    /// as they are and whose bytes sort as their Strings do (printable ASCII without `\`). A new
    /// generation can then copy them and merge its own keys in, instead of sorting the whole table.
    func sortedLines() -> [(line: Range<Int>, key: Range<Int>)]? {
        guard let lines else { return [] }
        var sorted: [(line: Range<Int>, key: Range<Int>)] = []
        sorted.reserveCapacity(count)
        let inOrder = bytes.withUnsafeBufferPointer { buffer in
            Self.eachRecord(buffer, lines, skippingOthers: false) { line, key in
                guard Self.sortsAsText(UnsafeBufferPointer(rebasing: buffer[key])),
                      sorted.last.map({ Self.compare(buffer, $0.key, key) < 0 }) ?? true else { return false }
                sorted.append((line, key))
                return true
            }
        }
        return inOrder && sorted.count == count ? sorted : nil
    }

    /// Walks the lines of `range` with memchr, handing each baseline record's line (with its newline)
    /// and key field to `body` until it returns false; false when it did, or when a line in the range is
    /// not a baseline record of three fields unless `skippingOthers` (an earlier release put change
    /// records between them). Cheaper than `StateText.scan`, which keeps every field's
    /// end: this looks at thousands of records to find a few.
    static func eachRecord(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, skippingOthers: Bool,
                           _ body: (Range<Int>, Range<Int>) -> Bool) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        func find(_ byte: UInt8, _ from: Int, _ end: Int) -> Int? {
            guard from < end else { return nil }
            return memchr(base + from, Int32(byte), end - from).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }
        }
        let name = Array("baseline\t".utf8)
        var start = range.lowerBound
        while start < range.upperBound, let end = find(10, start, range.upperBound) {
            defer { start = end + 1 }
            guard end - start > name.count, memcmp(base + start, name, name.count) == 0,
                  let keyEnd = find(9, start + name.count, end), find(9, keyEnd + 1, end) == nil else {
                if skippingOthers { continue }
                return false
            }
            guard body(start..<(end + 1), (start + name.count)..<keyEnd) else { return false }
        }
        return true
    }

    /// Printable ASCII without a backslash: escaping keeps it as it is, and its bytes sort as its String.
    static func sortsAsText(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        key.allSatisfy { $0 >= 0x20 && $0 < 0x7f && $0 != 92 }
    }

    /// memcmp order of two ranges of `buffer`, the shorter first when one is a prefix of the other.
    static func compare(_ buffer: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Int {
        compare(UnsafeBufferPointer(rebasing: buffer[a]), UnsafeBufferPointer(rebasing: buffer[b]))
    }

    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(a.count, b.count)
        if common > 0 {
            let order = memcmp(a.baseAddress!, b.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
}
