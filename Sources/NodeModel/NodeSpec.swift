/// How the node's state survives a reboot: the distribution's network configuration files.
public enum PersistBackend: String, CaseIterable, Sendable {
    case auto, netplan, ifcfg, none
}

/// How the node's live state is brought up at boot: a unit or init script that runs `lvs-node start`.
public enum InitSystem: String, CaseIterable, Sendable {
    case auto, systemd, sysv, none
}

/// What the user asked this node to be, validated: every field here is known good.
public struct NodeSpec: Equatable, Sendable {
    public var role: String
    public var mode: String
    public var vips: [IPAddress]
    public var persist: PersistBackend
    public var initSystem: InitSystem
    /// realserver nat: the director's address on the real servers' network (DIP).
    public var gateway: IPAddress?
    /// realserver tun: clamp the TCP MSS the real server advertises for the VIPs.
    public var tunnelMSS: Int?
    /// router: labelled secondary addresses.
    public var addresses: [InterfaceCIDR]
    /// router: static routes.
    public var routes: [StaticRoute]
    /// router: also forward IPv6.
    public var ipv6Forwarding: Bool
    /// director: the service interface its VIPs go on (`lo` for a VIP routed to it).
    public var interface: String?
    /// director: the IPVS table.
    public var ipvs: IPVSSpec?
    /// director: keepalived owns the VIPs and the table instead.
    public var ha: HASpec?
    /// Keep the cloud-init per-boot hook (set by `lvs-node cloud-init --install-hook`, not by the spec).
    public var cloudInitHook = false
    /// Where each value was given, for errors found later (never compared).
    public var locations = SpecLocations()

    public init(role: String, mode: String, vips: [IPAddress], persist: PersistBackend = .auto, initSystem: InitSystem = .auto,
                gateway: IPAddress? = nil, tunnelMSS: Int? = nil, addresses: [InterfaceCIDR] = [], routes: [StaticRoute] = [],
                ipv6Forwarding: Bool = false) {
        self.role = role
        self.mode = mode
        self.vips = vips
        self.persist = persist
        self.initSystem = initSystem
        self.gateway = gateway
        self.tunnelMSS = tunnelMSS
        self.addresses = addresses
        self.routes = routes
        self.ipv6Forwarding = ipv6Forwarding
    }

    /// The values role steps may be conditioned on (`when:`).
    public var conditions: [String: String] {
        ["persist": persist.rawValue, "init": initSystem.rawValue, "ipv6-forwarding": ipv6Forwarding ? "true" : "false",
         "cloud-init-hook": cloudInitHook ? "true" : "false", "ha": ha == nil ? "false" : "true"]
    }

    /// A role's text with the spec's placeholders filled in: `{interface}`.
    public func filling(_ text: String) -> String {
        guard let interface, text.contains("{interface}") else { return text }
        return text.split(separator: "{interface}", omittingEmptySubsequences: false).joined(separator: interface)
    }
}

/// Several problems found at once, so the user fixes them in one go.
public struct SpecErrors: Error, CustomStringConvertible {
    public let errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
    /// Every problem is a usage one (exit 64); one data problem makes the whole a data error (65).
    public var isUsage: Bool { !errors.isEmpty && errors.allSatisfy(\.isUsage) }
}
