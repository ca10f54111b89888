/// One network interface as the kernel reports it.
public struct LinkInfo: Hashable, Sendable {
    public var name: String
    /// The rtnetlink link kind (`ipip`, `veth`, …); nil for physical and loopback devices.
    public var kind: String?
    public var isUp: Bool

    public init(name: String, kind: String?, isUp: Bool) {
        self.name = name
        self.kind = kind
        self.isUp = isUp
    }
}

/// Live network interfaces. The real one speaks rtnetlink; tests use a stateful fake.
public protocol LinkControl: AnyObject {
    func links() throws -> [LinkInfo]
    /// Whether the kernel can make IPIP devices (loaded, built in, or a module it would load).
    func supportsIPIP() -> Bool
    /// Creates an IPIP tunnel device without endpoints (what `tunl0` is).
    func createIPIP(_ name: String) throws
    func setUp(_ name: String, _ up: Bool) throws
    func delete(_ name: String) throws
}

/// One route in the main table.
public struct RouteEntry: Hashable, Sendable {
    /// `default`, or a network in CIDR form (`198.51.100.0/24`, `2001:db8:1::/64`).
    public var destination: String
    public var gateway: String?
    public var device: String?
    public var metric: Int
    /// Who added it (rtnetlink's protocol: 3 boot, 4 static, 16 dhcp …): put back as it was, so a
    /// restored route is the one the host had, and its owner (a DHCP client) still knows it.
    public var origin: Int

    /// The protocol of the routes lvs-node adds.
    public static let staticOrigin = 4

    public init(destination: String, gateway: String?, device: String?, metric: Int = 0, origin: Int = RouteEntry.staticOrigin) {
        self.destination = destination
        self.gateway = gateway
        self.device = device
        self.metric = metric
        self.origin = origin
    }

    public var isIPv6: Bool { destination.contains(":") || (gateway?.contains(":") ?? false) }
}

/// Live routes of the main table. The real one speaks rtnetlink; tests use a stateful fake.
public protocol RouteControl: AnyObject {
    /// The main table's unicast routes to `destination` (IPv4 and IPv6 `default` are told apart by `ipv6`).
    func routes(to destination: String, ipv6: Bool) throws -> [RouteEntry]
    func add(_ route: RouteEntry) throws
    func delete(_ route: RouteEntry) throws
}
