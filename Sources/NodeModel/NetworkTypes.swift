/// An address with its prefix on a named interface (a router's `eth1 203.0.113.1/24`).
public struct InterfaceCIDR: Equatable, Sendable {
    public var interface: String
    public var address: IPAddress
    public var prefixLength: Int

    public init(interface: String, address: IPAddress, prefixLength: Int) {
        self.interface = interface
        self.address = address
        self.prefixLength = prefixLength
    }

    public var cidr: String { address.description + "/" + String(prefixLength) }
}

/// A static route: a network (or `default`) reached through a gateway.
public struct StaticRoute: Equatable, Sendable {
    /// `default` or a network in canonical CIDR form.
    public var destination: String
    public var via: IPAddress

    public init(destination: String, via: IPAddress) {
        self.destination = destination
        self.via = via
    }
}

extension IPAddress {
    /// This address with the bits past `prefixLength` cleared.
    public func network(prefixLength: Int) -> IPAddress {
        var bytes = self.bytes
        for index in bytes.indices {
            let bitsKept = max(0, min(8, prefixLength - index * 8))
            bytes[index] &= bitsKept == 0 ? 0 : ~UInt8(0) << (8 - bitsKept)
        }
        return IPAddress(family: family, bytes: bytes)
    }

    public var maximumPrefixLength: Int { family == .v4 ? 32 : 128 }

    /// Whether `self` is inside `network/prefixLength`.
    public func isInside(_ network: IPAddress, prefixLength: Int) -> Bool {
        family == network.family && self.network(prefixLength: prefixLength) == network.network(prefixLength: prefixLength)
    }

    /// The dotted netmask of an IPv4 prefix length (`24` → `255.255.255.0`).
    public static func netmask(prefixLength: Int) -> String {
        let mask: UInt32 = prefixLength <= 0 ? 0 : ~UInt32(0) << UInt32(32 - min(32, prefixLength))
        return [24, 16, 8, 0].map { String((mask >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}

/// `ADDRESS/PREFIX` parsed and checked.
public enum CIDR {
    public static func parse(_ text: String) -> (IPAddress, Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let prefix = Int(parts[1]),
              prefix >= 0, prefix <= address.maximumPrefixLength else { return nil }
        return (address, prefix)
    }
}
