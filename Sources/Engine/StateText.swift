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
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                switch byte {
                case UInt8(ascii: "t"): result.append(9)
                case UInt8(ascii: "n"): result.append(10)
                case UInt8(ascii: "r"): result.append(13)
                default: result.append(byte)
                }
                escaped = false
            } else if byte == 92 {
                escaped = true
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
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
    /// or to strip a marker from).
    static func scan(_ bytes: ArraySlice<UInt8>, _ body: (Record) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer { buffer in
            var ends: [Int] = []
            ends.reserveCapacity(8)
            var start = 0
            for index in 0..<buffer.count where buffer[index] == 9 || buffer[index] == 10 {
                ends.append(index)
                if buffer[index] == 10 {
                    try body(Record(buffer: buffer, lineStart: start, ends: ends))
                    ends.removeAll(keepingCapacity: true)
                    start = index + 1
                }
            }
        }
    }

    /// One line of a state file: its fields as ranges of the file's bytes.
    struct Record {
        let buffer: UnsafeBufferPointer<UInt8>
        let lineStart: Int
        /// Where each field ends (its tab or newline).
        let ends: [Int]

        var count: Int { ends.count }

        private func range(_ index: Int) -> Range<Int> { (index == 0 ? lineStart : ends[index - 1] + 1)..<ends[index] }

        /// Whether field `index` is exactly `text`.
        func field(_ index: Int, is text: StaticString) -> Bool {
            let range = range(index)
            guard range.count == text.utf8CodeUnitCount else { return false }
            let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
            return buffer[range].elementsEqual(expected)
        }

        /// Field `index`, unescaped.
        func string(_ index: Int) -> String { Record.text(buffer, range(index)) }

        /// Field `index` as an optional value: `!` nil, `=value` the value; `@NAME` is handed to
        /// `reference`; anything else is malformed.
        func optional(_ index: Int, reference: (Substring) throws -> String) throws -> String? {
            let range = range(index)
            guard let marker = range.first.map({ buffer[$0] }) else { throw Malformed() }
            switch marker {
            case UInt8(ascii: "!") where range.count == 1: return nil
            case UInt8(ascii: "="): return Record.text(buffer, range.dropFirst())
            case UInt8(ascii: "@"): return try reference(Substring(Record.text(buffer, range.dropFirst())))
            default: throw Malformed()
            }
        }

        private static func text(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
            let bytes = UnsafeBufferPointer(rebasing: buffer[range])
            let text = String(decoding: bytes, as: UTF8.self)
            return bytes.contains(92) ? unescaping(Substring(text)) : text
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

    private mutating func append(escaping text: String) {
        var text = text
        text.withUTF8 { utf8 in
            guard utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 92 || $0 == 13 }) else {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case 9: bytes += [92, UInt8(ascii: "t")]
                case 10: bytes += [92, UInt8(ascii: "n")]
                case 13: bytes += [92, UInt8(ascii: "r")]
                case 92: bytes += [92, 92]
                default: bytes.append(byte)
                }
            }
        }
    }
}
