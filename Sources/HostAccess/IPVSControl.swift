/// How a virtual service is addressed: protocol, address and port, or a firewall mark.
public enum IPVSServiceKey: Hashable, Sendable, Comparable {
    case address(IPVSProtocol, address: String, port: UInt16)
    /// `ipv6`: the mark's address family (a mark service is one family).
    case firewallMark(UInt32, ipv6: Bool)

    public var isIPv6: Bool {
        switch self {
        case .address(_, let address, _): return address.contains(":")
        case .firewallMark(_, let ipv6): return ipv6
        }
    }

    /// `tcp 192.0.2.10:80`, `udp [2001:db8::10]:53`, `fwmark 1`, `fwmark 1 ipv6`.
    public var text: String {
        switch self {
        case .address(let proto, let address, let port): return "\(proto.rawValue) \(IPVSServiceKey.endpoint(address, port))"
        case .firewallMark(let mark, let ipv6): return "fwmark \(mark)" + (ipv6 ? " ipv6" : "")
        }
    }

    public static func endpoint(_ address: String, _ port: UInt16) -> String {
        // Appended, not interpolated: a table's worth of these is read on every run.
        var text = address.utf8.contains(UInt8(ascii: ":")) ? "[" + address + "]:" : address + ":"
        text += String(port)
        return text
    }

    public static func < (a: IPVSServiceKey, b: IPVSServiceKey) -> Bool { a.text < b.text }
}

public enum IPVSProtocol: String, CaseIterable, Sendable {
    case tcp, udp, sctp

    /// IPPROTO_*.
    public var number: UInt16 {
        switch self {
        case .tcp: return 6
        case .udp: return 17
        case .sctp: return 132
        }
    }

    public init?(number: UInt16) {
        guard let found = Self.allCases.first(where: { $0.number == number }) else { return nil }
        self = found
    }
}

/// A virtual service as the kernel holds it.
public struct IPVSService: Hashable, Sendable {
    public var key: IPVSServiceKey
    public var scheduler: String
    /// IP_VS_SVC_F_* without HASHED (the kernel's bookkeeping): persistent, one-packet, scheduler flags.
    public var flags: UInt32
    /// Persistence timeout in seconds (meaningful with the persistent flag).
    public var timeout: UInt32
    /// IPv4: the persistence netmask as a 32-bit value in host order (0xffffffff = /32); IPv6: a prefix length.
    public var netmask: UInt32

    public init(key: IPVSServiceKey, scheduler: String, flags: UInt32 = 0, timeout: UInt32 = 0, netmask: UInt32? = nil) {
        self.key = key
        self.scheduler = scheduler
        self.flags = flags
        self.timeout = timeout
        self.netmask = netmask ?? (key.isIPv6 ? 128 : 0xffff_ffff)
    }

    public static let persistent: UInt32 = 0x1
    public static let hashed: UInt32 = 0x2
    public static let onePacket: UInt32 = 0x4
    public static let schedulerFlag1: UInt32 = 0x8
    public static let schedulerFlag2: UInt32 = 0x10
    public static let schedulerFlag3: UInt32 = 0x20
}

/// How the director passes a packet to a real server.
public enum IPVSForwarding: String, CaseIterable, Sendable {
    case nat, tun, dr

    /// IP_VS_CONN_F_MASQ / TUNNEL / DROUTE.
    public var code: UInt32 {
        switch self {
        case .nat: return 0
        case .tun: return 2
        case .dr: return 3
        }
    }

    public init?(code: UInt32) {
        guard let found = Self.allCases.first(where: { $0.code == code & 0x7 }) else { return nil }
        self = found
    }

    /// The word `ipvsadm -Ln` prints.
    public var ipvsadmName: String {
        switch self {
        case .nat: return "Masq"
        case .tun: return "Tunnel"
        case .dr: return "Route"
        }
    }
}

/// A real server of a virtual service as the kernel holds it.
public struct IPVSDestination: Hashable, Sendable {
    public var service: IPVSServiceKey
    public var address: String
    public var port: UInt16
    public var forwarding: IPVSForwarding
    public var weight: Int32
    /// Connection thresholds; 0 = none.
    public var upperThreshold: UInt32
    public var lowerThreshold: UInt32
    /// Read only: the kernel's counters.
    public var activeConnections: UInt32 = 0
    public var inactiveConnections: UInt32 = 0

    public init(service: IPVSServiceKey, address: String, port: UInt16, forwarding: IPVSForwarding, weight: Int32,
                upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0) {
        self.service = service
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
    }

    public var endpoint: String { IPVSServiceKey.endpoint(address, port) }
}

/// Connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`); 0 leaves a value unchanged when set.
public struct IPVSTimeouts: Hashable, Sendable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32

    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

public enum IPVSOperation: Hashable, Sendable {
    case addService(IPVSService)
    case editService(IPVSService)
    case deleteService(IPVSServiceKey)
    case addDestination(IPVSDestination)
    case editDestination(IPVSDestination)
    case deleteDestination(IPVSDestination)
    case setTimeouts(IPVSTimeouts)
    /// Every service and its real servers at once (IPVS_CMD_FLUSH, what `ipvsadm -C` sends); the
    /// timeouts stay. Only for a table whose every service is lvs-node's (see `IPVSDriver.write`).
    case flush
}

/// The kernel's IPVS table. The real one speaks generic netlink; tests use a stateful fake.
public protocol IPVSControl: AnyObject {
    /// Every virtual service, in one dump (cached until `apply`).
    func services() throws -> [IPVSService]
    /// Every real server of every service, with its counters (cached until `apply`).
    func destinations() throws -> [IPVSDestination]
    func timeouts() throws -> IPVSTimeouts
    /// Forgets the dumps, so the next read asks the kernel (a drain watching connection counters).
    func refresh()
    /// Carries out the operations in order; throws `BatchFailure` for the first one refused.
    func apply(_ operations: [IPVSOperation]) throws
    /// Whether the kernel has the scheduler or can load it when a service names it.
    func canLoadScheduler(_ name: String) -> Bool
}
