import Glibc

/// The text form of the journal and the generations: one record per line, fields separated by tabs,
/// tab/newline/backslash escaped, an optional value written `=value` or `!` (absent). Cheap to write
/// and to read back — a run with a thousand VIPs reads and writes thousands of these — and readable
/// with grep when something has to be checked by hand.
enum StateText {
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 92 || $0 == 13 }) else { return text }
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count + 64)
        for byte in text.utf8 {
            switch byte {
            case 9: result += [92, UInt8(ascii: "t")]
            case 10: result += [92, UInt8(ascii: "n")]
            case 13: result += [92, UInt8(ascii: "r")]
            case 92: result += [92, 92]
            default: result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func unescape(_ text: Substring) -> String {
        guard text.utf8.contains(92) else { return String(text) }
        return unescaping(text)
    }

    /// On bytes: a generation holds the whole spec as one escaped field, and walking it by
    /// Character was a fifth of a large no-op run.
    private static func unescaping(_ text: Substring) -> String {
        var text = text
        return text.withUTF8 { unescaping($0) }
    }

    /// The plain stretches between escapes are found with memchr and copied whole: byte by byte, the
    /// spec of a director's table (800 KB, an escaped newline per line) cost 36M instructions.
    /// A `\` before any other byte stands for that byte; a lone one at the end is dropped.
    static func unescaping(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return "" }
        return String(unsafeUninitializedCapacity: bytes.count) { out in
            var read = 0, written = 0
            while read < bytes.count {
                let stop = memchr(base + read, 92, bytes.count - read).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? bytes.count
                if stop > read {
                    (out.baseAddress! + written).update(from: base + read, count: stop - read)
                    written += stop - read
                }
                guard stop + 1 < bytes.count else { break }
                switch base[stop + 1] {
                case UInt8(ascii: "t"): out[written] = 9
                case UInt8(ascii: "n"): out[written] = 10
                case UInt8(ascii: "r"): out[written] = 13
                case let byte: out[written] = byte
                }
                written += 1
                read = stop + 2
            }
            return written
        }
    }

    /// A field's bytes as its text, unescaped.
    static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard let base = bytes.baseAddress, memchr(base, 92, bytes.count) != nil else { return String(decoding: bytes, as: UTF8.self) }
        return unescaping(bytes)
    }

    static func optional(_ value: String?) -> String { value.map { "=" + escape($0) } ?? "!" }

    static func optional(_ field: Substring) throws -> String? {
        if field == "!" { return nil }
        guard field.first == "=" else { throw Malformed() }
        return unescape(field.dropFirst())
    }

    static func line(_ fields: String...) -> String { fields.joined(separator: "\t") + "\n" }

    /// Every complete line of `bytes` as its unescaped fields, optional markers left in place.
    /// Works on bytes, not Characters: grapheme breaking made reading a large generation slow.
    static func records(_ bytes: [UInt8]) -> [[String]] {
        var records: [[String]] = []
        bytes.withUnsafeBufferPointer { buffer in
            var fields: [String] = []
            var start = 0
            var hasEscape = false
            for index in 0..<buffer.count {
                let byte = buffer[index]
                if byte == 92 { hasEscape = true }
                guard byte == 9 || byte == 10 else { continue }
                let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
                fields.append(hasEscape ? unescaping(Substring(text)) : text)
                start = index + 1
                hasEscape = false
                if byte == 10 {
                    records.append(fields)
                    fields.removeAll(keepingCapacity: true)
                }
            }
        }
        return records
    }

    static func optional(_ field: String) throws -> String? {
        if field == "!" { return nil }
        guard field.first == "=" else { throw Malformed() }
        return String(field.dropFirst())
    }

    static func fields(_ line: Substring) -> [Substring] {
        line.utf8.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { Substring($0) }
    }

    static func lines(_ text: String) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// `change KIND SUBJECT BEFORE AFTER`
    static func encode(_ change: Change) -> String {
        line("change", escape(change.kind), escape(change.subject), optional(change.before), optional(change.after))
    }

    static func decodeChange(_ fields: [Substring]) throws -> Change {
        guard fields.count == 5, fields[0] == "change" else { throw Malformed() }
        return Change(kind: unescape(fields[1]), subject: unescape(fields[2]),
                      before: try optional(fields[3]), after: try optional(fields[4]))
    }

    struct Malformed: Error {}

    /// Calls `body` with each complete line of `bytes` as byte ranges, so a reader of thousands of
    /// records makes Strings only of the fields it keeps, once each (no per-field String to compare
    /// or to strip a marker from). Lines and fields are found with memchr: a generation's spec is one
    /// line of hundreds of kilobytes, and its thousands of short records were a byte-by-byte loop.
    static func scan(_ bytes: ArraySlice<UInt8>, _ body: (Record) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            func find(_ byte: Int32, from start: Int, before end: Int) -> Int? {
                memchr(base + start, byte, end - start).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }
            }
            var ends: [Int] = []
            ends.reserveCapacity(8)
            var start = 0
            // A last line without its newline is no record (a cut file).
            while start < buffer.count, let lineEnd = find(10, from: start, before: buffer.count) {
                var field = start
                while let tab = find(9, from: field, before: lineEnd) {
                    ends.append(tab)
                    field = tab + 1
                }
                ends.append(lineEnd)
                try body(Record(buffer: buffer, origin: bytes.startIndex, lineStart: start, ends: ends))
                ends.removeAll(keepingCapacity: true)
                start = lineEnd + 1
            }
        }
    }

    /// One line of a state file: its fields as ranges of the file's bytes.
    struct Record {
        let buffer: UnsafeBufferPointer<UInt8>
        /// The index in the whole file of the buffer's first byte.
        let origin: Int
        let lineStart: Int
        /// Where each field ends (its tab or newline).
        let ends: [Int]

        var count: Int { ends.count }

        private func range(_ index: Int) -> Range<Int> { (index == 0 ? lineStart : ends[index - 1] + 1)..<ends[index] }

        /// Where field `index` starts in the whole file (the same position whichever part of it was scanned).
        func position(_ index: Int) -> Int { origin + range(index).lowerBound }

        /// Where this record's line starts and ends (after its newline) in the whole file.
        var line: Range<Int> { (origin + lineStart)..<(origin + ends[ends.count - 1] + 1) }

        /// Whether field `index` is exactly `text`.
        func field(_ index: Int, is text: StaticString) -> Bool {
            let range = range(index)
            guard range.count == text.utf8CodeUnitCount else { return false }
            return memcmp(buffer.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
        }

        /// Whether field `index`'s bytes (escaped, as in the file) are exactly `bytes`.
        func field(_ index: Int, equals bytes: [UInt8]) -> Bool {
            let range = range(index)
            guard range.count == bytes.count else { return false }
            return range.isEmpty || memcmp(buffer.baseAddress! + range.lowerBound, bytes, range.count) == 0
        }

        /// Where field `index` stands in the whole file.
        func absoluteRange(_ index: Int) -> Range<Int> { range(index).lowerBound + origin..<range(index).upperBound + origin }

        /// Field `index`, unescaped.
        func string(_ index: Int) -> String { StateText.text(UnsafeBufferPointer(rebasing: buffer[range(index)])) }

        /// Field `index` as an optional value: `!` nil, `=value` the value; `@NAME` is handed to
        /// `reference`; anything else is malformed.
        func optional(_ index: Int, reference: (Substring) throws -> String) throws -> String? {
            let range = range(index)
            guard let marker = range.first.map({ buffer[$0] }) else { throw Malformed() }
            switch marker {
            case UInt8(ascii: "!") where range.count == 1: return nil
            case UInt8(ascii: "="): return StateText.text(UnsafeBufferPointer(rebasing: buffer[range.dropFirst()]))
            case UInt8(ascii: "@"): return try reference(Substring(StateText.text(UnsafeBufferPointer(rebasing: buffer[range.dropFirst()]))))
            default: throw Malformed()
            }
        }

        /// Checks field `index` as `optional` reads it, without making its String; a `@NAME` is resolved
        /// now (a missing private value is an error of the whole file) and kept by its position.
        func checkOptional(_ index: Int, references: inout [Int: String], reference: (Substring) throws -> String) throws {
            let range = range(index)
            guard let marker = range.first.map({ buffer[$0] }) else { throw Malformed() }
            switch marker {
            case UInt8(ascii: "!") where range.count == 1, UInt8(ascii: "="): return
            case UInt8(ascii: "@"): references[position(index)] = try optional(index, reference: reference)
            default: throw Malformed()
            }
        }

        /// Field `index` as an optional value, checked before by `checkOptional`.
        func checkedOptional(_ index: Int, references: [Int: String]) -> String? {
            let range = range(index)
            switch buffer[range.lowerBound] {
            case UInt8(ascii: "="): return StateText.text(UnsafeBufferPointer(rebasing: buffer[range.dropFirst()]))
            case UInt8(ascii: "@"): return references[position(index)] ?? PrivateState.unreadable
            default: return nil
            }
        }
    }
}

/// Writes `StateText` records straight into bytes: a generation of thousands of records costs no
/// String per field or per line. Produces exactly what `StateText.line` and `escape` produce.
struct StateTextWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    /// Starts a record with its name (a plain word, never escaped).
    mutating func record(_ name: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// A field, escaped.
    mutating func field(_ text: String) {
        bytes.append(9)
        append(escaping: text)
    }

    /// A field written as given (numbers, `@REFERENCE`s, a checksum).
    mutating func plainField(_ text: String) {
        bytes.append(9)
        bytes.append(contentsOf: text.utf8)
    }

    /// An optional value: `=value` escaped, or `!`.
    mutating func optionalField(_ value: String?) {
        bytes.append(9)
        guard let value else {
            bytes.append(UInt8(ascii: "!"))
            return
        }
        bytes.append(UInt8(ascii: "="))
        append(escaping: value)
    }

    mutating func endRecord() { bytes.append(10) }

    /// Text that is already StateText (a whole record made by `StateText.line`).
    mutating func plain(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Bytes that are already StateText (a record copied from another file).
    mutating func plain(_ record: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: record) }

    /// The runs between escaped bytes are copied whole, and found eight bytes at a time: a director's
    /// generation is 2.5 MB of fields (its spec one of 800 KB with a newline every 70 bytes), and a
    /// byte at a time cost more than the rest of the generation.
    private mutating func append(escaping text: String) {
        var text = text
        text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            let count = utf8.count
            // A long text whose only escapes are newlines (the spec: one every 70 bytes) goes from
            // newline to newline with memchr.
            if count >= 256 && memchr(base, 9, count) == nil && memchr(base, 13, count) == nil && memchr(base, 92, count) == nil {
                var start = 0
                while let found = memchr(base + start, 10, count - start) {
                    let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: newline - start))
                    bytes.append(92)
                    bytes.append(UInt8(ascii: "n"))
                    start = newline + 1
                }
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: count - start))
                return
            }
            var start = 0, index = 0
            while index < count {
                if index + 8 <= count && !Self.mayHoldEscaped(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                    index += 8
                    continue
                }
                let escaped: UInt8
                switch base[index] {
                case 9: escaped = UInt8(ascii: "t")
                case 10: escaped = UInt8(ascii: "n")
                case 13: escaped = UInt8(ascii: "r")
                case 92: escaped = 92
                default: index += 1; continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index - start))
                bytes.append(92)
                bytes.append(escaped)
                index += 1
                start = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: count - start))
        }
    }

    /// Whether any of eight bytes is a tab, newline, carriage return or backslash (exact: a byte of
    /// `word ^ pattern` is zero exactly where `word` has the pattern's byte).
    private static func mayHoldEscaped(_ word: UInt64) -> Bool {
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- 0x0101_0101_0101_0101) & ~value & 0x8080_8080_8080_8080 != 0 }
        return hasZeroByte(word ^ 0x0909_0909_0909_0909) || hasZeroByte(word ^ 0x0a0a_0a0a_0a0a_0a0a)
            || hasZeroByte(word ^ 0x0d0d_0d0d_0d0d_0d0d) || hasZeroByte(word ^ 0x5c5c_5c5c_5c5c_5c5c)
    }
}
