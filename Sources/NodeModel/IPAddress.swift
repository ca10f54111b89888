import Glibc

/// An IPv4 or IPv6 address, parsed with inet_pton and printed canonically with inet_ntop,
/// so `2001:DB8::0:1` and `2001:db8::1` are the same VIP.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Family: Sendable { case v4, v6 }

    public let family: Family
    public let bytes: [UInt8]

    public init(family: Family, bytes: [UInt8]) {
        self.family = family
        self.bytes = bytes
    }

    public init?(_ text: String) {
        if let v4 = Self.dottedQuad(text) {
            family = .v4
            bytes = v4
            return
        }
        var v4 = in_addr()
        if !text.utf8.contains(UInt8(ascii: ":")), inet_pton(AF_INET, text, &v4) == 1 {
            family = .v4
            bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            family = .v6
            bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    /// The four bytes of `a.b.c.d` in the form inet_pton accepts (four decimal numbers up to 255, no
    /// leading zeros), or nil for anything else, which inet_pton then judges: a spec of a thousand VIPs
    /// parses a thousand addresses.
    private static func dottedQuad(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(4)
        var value = 0, digits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits > 0 && value == 0 { return nil }   // a leading zero
                value = value * 10 + Int(byte - 48)
                digits += 1
                if value > 255 { return nil }
            case UInt8(ascii: ".") where digits > 0 && result.count < 3:
                result.append(UInt8(value))
                value = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, result.count == 3 else { return nil }
        result.append(UInt8(value))
        return result
    }

    public var description: String {
        if family == .v4 && bytes.count == 4 {
            // inet_ntop's text, without its sprintf and written in place: every VIP of every run.
            return String(unsafeUninitializedCapacity: 15) { writeDottedQuad(into: $0) }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let af = family == .v4 ? AF_INET : AF_INET6
        bytes.withUnsafeBytes { _ = inet_ntop(af, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// `ADDRESS/PREFIX` (`198.18.0.1/32`), an IPv4 one in one allocation.
    public func text(prefixLength: Int) -> String {
        guard family == .v4 && bytes.count == 4, (0...32).contains(prefixLength) else { return description + "/" + String(prefixLength) }
        return String(unsafeUninitializedCapacity: 19) { out in
            var count = writeDottedQuad(into: out)
            out[count] = UInt8(ascii: "/")
            count += 1
            if prefixLength >= 10 { out[count] = 48 + UInt8(prefixLength / 10 % 10); count += 1 }
            out[count] = 48 + UInt8(prefixLength % 10)
            return count + 1
        }
    }

    /// The four bytes as `a.b.c.d` at the start of `out` (15 bytes at most); returns how many.
    private func writeDottedQuad(into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        for position in 0..<4 {
            let byte = bytes[position]
            if position > 0 { out[count] = UInt8(ascii: "."); count += 1 }
            if byte >= 100 { out[count] = 48 + byte / 100; count += 1 }
            if byte >= 10 { out[count] = 48 + byte / 10 % 10; count += 1 }
            out[count] = 48 + byte % 10
            count += 1
        }
        return count
    }

    /// The host prefix length: 32 or 128.
    public var hostPrefixLength: Int { family == .v4 ? 32 : 128 }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .v4 }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Why this address cannot be a virtual IP clients connect to, or nil when it can.
    public var reasonNotUnicast: String? {
        switch family {
        case .v4:
            if bytes == [0, 0, 0, 0] { return "it is the unspecified address 0.0.0.0" }
            if bytes[0] == 0 { return "it is in 0.0.0.0/8, which means \"this network\"" }
            if bytes[0] == 127 { return "it is a loopback address (127.0.0.0/8)" }
            if bytes[0] >= 224 && bytes[0] <= 239 { return "it is a multicast address (224.0.0.0/4)" }
            if bytes == [255, 255, 255, 255] { return "it is the limited broadcast address" }
            if bytes[0] >= 240 { return "it is in the reserved range 240.0.0.0/4" }
            return nil
        case .v6:
            if bytes.allSatisfy({ $0 == 0 }) { return "it is the unspecified address ::" }
            if bytes.dropLast().allSatisfy({ $0 == 0 }) && bytes.last == 1 { return "it is the loopback address ::1" }
            if bytes[0] == 0xff { return "it is a multicast address (ff00::/8)" }
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return "it is link-local (fe80::/10), which needs a scope" }
            if let ipv4 = embeddedIPv4 {
                let kind = bytes[10] == 0xff ? "an IPv4-mapped IPv6 address (::ffff:0:0/96)" : "an IPv4-compatible IPv6 address (::/96)"
                return "it is \(kind), the IPv4 address \(ipv4) in disguise"
            }
            return nil
        }
    }

    /// What to write instead of an address `reasonNotUnicast` refuses.
    public var unicastAdvice: String {
        embeddedIPv4.map { "write the IPv4 address \($0) itself, which is checked as IPv4" } ?? "use a unicast address"
    }

    /// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`,
    /// deprecated) IPv6 address: the kernel treats either as IPv4, so `::ffff:127.0.0.1` would slip
    /// a loopback address past the IPv4 checks. `::` and `::1` are not IPv4.
    public var embeddedIPv4: IPAddress? {
        guard family == .v6, bytes[0..<10].allSatisfy({ $0 == 0 }) else { return nil }
        let ipv4 = Array(bytes[12...])
        switch (bytes[10], bytes[11]) {
        case (0xff, 0xff): return IPAddress(family: .v4, bytes: ipv4)
        case (0, 0) where ipv4[0..<3].contains(where: { $0 != 0 }) || ipv4[3] > 1: return IPAddress(family: .v4, bytes: ipv4)
        default: return nil
        }
    }
}
