/// YAML text written straight into bytes: the spec of a director's table is tens of thousands of
/// lines, kept in every generation, and a String per line or per field cost more than the rest of the
/// generation. Writes exactly what the same text made of Strings would be.
struct YAMLTextWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Text written as it is (keys, punctuation, identifiers).
    mutating func write(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func write(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// A whole line: the text and its newline.
    mutating func line(_ text: String) {
        write(text)
        bytes.append(10)
    }

    mutating func newline() { bytes.append(10) }

    /// A number in decimal, as `String(number)` writes it.
    mutating func write(_ number: Int) {
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var divisor: UInt = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            bytes.append(48 + UInt8(magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        } while divisor > 0
    }

    /// An address double-quoted: an IPv4 address as its dotted quad without making its String
    /// (a director's table has one per real server), any other as `description` gives it.
    mutating func quoted(_ address: IPAddress) {
        guard address.family == .v4, address.bytes.count == 4 else {
            quoted(address.description)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for (position, byte) in address.bytes.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ".")) }
            if byte >= 100 { bytes.append(48 + byte / 100) }
            if byte >= 10 { bytes.append(48 + byte / 10 % 10) }
            bytes.append(48 + byte % 10)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Free text as a YAML double-quoted scalar (`SpecYAML.quoted`).
    mutating func quoted(_ text: String) {
        if SpecYAML.isPlainPrintable(text) {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
        } else {
            write(SpecYAML.quoted(text))
        }
    }
}
