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
}
