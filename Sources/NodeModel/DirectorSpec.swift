/// The director's load balancing, validated: virtual services with their real servers, the IPVS
/// connection timeouts, and how lvs-node treats the rest of the kernel's table.
public struct IPVSSpec: Equatable, Sendable {
    public var services: [VirtualService]
    /// tcp, tcpfin, udp in seconds; nil leaves the kernel's.
    public var timeouts: ConnectionTimeouts?
    /// Services in the kernel that the spec does not list are removed (otherwise they are left alone).
    public var ownsTable: Bool
    /// Seconds a real server leaving the spec keeps weight 0 (no new connections) before it is removed.
    public var drainSeconds: Int
    /// The connection table's size and the spec's IPVS sysctls.
    public var kernel = KernelSettings()

    public init(services: [VirtualService], timeouts: ConnectionTimeouts? = nil, ownsTable: Bool = false, drainSeconds: Int = 0) {
        self.services = services
        self.timeouts = timeouts
        self.ownsTable = ownsTable
        self.drainSeconds = drainSeconds
    }
}

public struct ConnectionTimeouts: Equatable, Sendable {
    public var tcp: Int
    public var tcpFin: Int
    public var udp: Int

    public init(tcp: Int, tcpFin: Int, udp: Int) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

public enum ServiceProtocol: String, CaseIterable, Sendable {
    case tcp, udp, sctp
}

/// How the director passes packets to a real server.
public enum Forwarding: String, CaseIterable, Sendable {
    case dr, tun, nat
}

public struct VirtualService: Equatable, Sendable {
    /// What the service matches: VIP, protocol and port, or a firewall mark.
    public enum Match: Equatable, Sendable {
        case address(ServiceProtocol, IPAddress, port: Int)
        /// `rule`: the packets lvs-node marks for the service itself (VIP, protocol, ports);
        /// nil when the marks are set elsewhere.
        case firewallMark(Int, rule: MarkRule?)
    }

    public var match: Match
    public var scheduler: String
    /// Scheduler flags (`sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`) and `ops` (one-packet scheduling).
    public var flags: [String]
    /// Persistence timeout in seconds; nil: not persistent.
    public var persistence: Int?
    /// Persistence granularity: an IPv4 netmask (`255.255.255.0`) or IPv6 prefix length.
    public var netmask: String?
    public var realServers: [RealServer]
    /// keepalived health check for every real server without its own (HA only).
    public var check: HealthCheck?
    /// alpha, inhibit_on_failure, quorum and sorry server (HA only).
    public var health: HealthPolicy

    public init(match: Match, scheduler: String, flags: [String] = [], persistence: Int? = nil, netmask: String? = nil,
                realServers: [RealServer] = [], check: HealthCheck? = nil, health: HealthPolicy = HealthPolicy()) {
        self.match = match
        self.scheduler = scheduler
        self.flags = flags
        self.persistence = persistence
        self.netmask = netmask
        self.realServers = realServers
        self.check = check
        self.health = health
    }

    /// The VIP the service answers on (a mark service's rule VIP), if it has one.
    public var vip: IPAddress? {
        switch match {
        case .address(_, let address, _): return address
        case .firewallMark(_, let rule): return rule?.vip
        }
    }

    public var isIPv6: Bool { vip?.family == .v6 }

    /// How `ipvsadm` and the plan name it: `tcp 192.0.2.10:80`, `fwmark 1`.
    public var name: String {
        switch match {
        case .address(let proto, let address, let port): return "\(proto.rawValue) \(RealServer.endpoint(address, port))"
        case .firewallMark(let mark, _): return "fwmark \(mark)" + (isIPv6 ? " ipv6" : "")
        }
    }
}

/// The packets a firewall-mark service gathers: to the VIP, with this protocol, on these ports.
public struct MarkRule: Equatable, Sendable {
    public var vip: IPAddress
    public var proto: ServiceProtocol
    public var ports: [Int]

    public init(vip: IPAddress, proto: ServiceProtocol, ports: [Int]) {
        self.vip = vip
        self.proto = proto
        self.ports = ports
    }
}

public struct RealServer: Equatable, Sendable {
    public var address: IPAddress
    /// 0 for a firewall-mark service: the port the packet was sent to.
    public var port: Int
    public var forwarding: Forwarding
    public var weight: Int
    /// Connection thresholds; 0 = none.
    public var upperThreshold: Int
    public var lowerThreshold: Int
    public var check: HealthCheck?

    public init(address: IPAddress, port: Int, forwarding: Forwarding, weight: Int = 1, upperThreshold: Int = 0,
                lowerThreshold: Int = 0, check: HealthCheck? = nil) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        self.check = check
    }

    public var endpoint: String { Self.endpoint(address, port) }

    static func endpoint(_ address: IPAddress, _ port: Int) -> String {
        address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// How keepalived decides a real server is healthy.
public enum HealthCheck: Equatable, Sendable {
    case tcp(Timing)
    case http(path: String, status: Int, Timing)

    public struct Timing: Equatable, Sendable {
        public var connectTimeout: Int
        public var retry: Int
        public var delayBeforeRetry: Int
        /// Seconds between two checks of a healthy server (keepalived's `delay_loop`).
        public var delayLoop: Int

        public init(connectTimeout: Int = 3, retry: Int = 3, delayBeforeRetry: Int = 3, delayLoop: Int = 6) {
            self.connectTimeout = connectTimeout
            self.retry = retry
            self.delayBeforeRetry = delayBeforeRetry
            self.delayLoop = delayLoop
        }
    }
}

/// A keepalived VRRP instance: the director pair's failover.
public struct HASpec: Equatable, Sendable {
    public enum State: String, CaseIterable, Sendable { case MASTER, BACKUP }

    public var state: State
    public var priority: Int
    public var interface: String
    public var virtualRouterID: Int
    public var advertInterval: Int
    /// PASS password (at most 8 characters, as VRRP carries it); nil: no authentication.
    public var password: String?
    /// Unicast VRRP: this director's address and its peers'; empty: multicast.
    public var unicastSource: IPAddress?
    public var unicastPeers: [IPAddress]
    /// nil: no connection synchronisation.
    public var syncDaemon: SyncDaemon?
    public var notification: HANotification

    public init(state: State, priority: Int, interface: String, virtualRouterID: Int, advertInterval: Int = 1,
                password: String? = nil, unicastSource: IPAddress? = nil, unicastPeers: [IPAddress] = [],
                syncDaemon: SyncDaemon? = nil, notification: HANotification = HANotification()) {
        self.state = state
        self.priority = priority
        self.interface = interface
        self.virtualRouterID = virtualRouterID
        self.advertInterval = advertInterval
        self.password = password
        self.unicastSource = unicastSource
        self.unicastPeers = unicastPeers
        self.syncDaemon = syncDaemon
        self.notification = notification
    }
}
