/// Reads a virtual service's keepalived health policy: `alpha`, `inhibit-on-failure`, `quorum`,
/// `hysteresis` and `sorry-server` (HA only).
extension DirectorInput {
    static let healthPolicyKeys = ["alpha", "inhibit-on-failure", "quorum", "hysteresis", "sorry-server"]

    /// `fields`: the service's entries with these keys (most services have none); `name` is built only for an error.
    mutating func healthPolicy(_ fields: [(key: String, value: YAMLValue)], _ name: @autoclosure () -> String,
                               match: VirtualService.Match, realServers: [RealServer]) -> HealthPolicy {
        var policy = HealthPolicy()
        guard !fields.isEmpty else { return policy }
        func field(_ key: String) -> YAMLValue? { fields.first { $0.key == key }?.value }
        let name = name()
        let quorumValue = field("quorum")
        if let value = field("alpha"), let flag = flag(value, "\(name).alpha") { policy.alpha = flag }
        if let value = field("inhibit-on-failure"), let flag = flag(value, "\(name).inhibit-on-failure") { policy.inhibitOnFailure = flag }
        if let quorumValue, let quorum = number(quorumValue, "\(name).quorum", 1...Int(UInt32.max)) { policy.quorum = quorum }
        if let value = field("hysteresis"), let hysteresis = number(value, "\(name).hysteresis", 0...Int(UInt32.max)) {
            if hysteresis >= policy.quorum {
                errors.append(SpecError(value.location, "\(name).hysteresis \(hysteresis) must be below the quorum (\(policy.quorum)), or the service would never lose its quorum"))
            }
            policy.hysteresis = hysteresis
        }
        if let value = field("sorry-server") { policy.sorryServer = sorryServer(value, "\(name).sorry-server", match: match) }
        // keepalived acts on a lost quorum only by swapping the real servers for the sorry server; without
        // one it merely logs. A quorum that changes nothing would be a promise the director does not keep.
        if policy.sorryServer == nil, field("sorry-server") == nil {
            for key in ["quorum", "hysteresis"] {
                if let value = field(key) {
                    errors.append(SpecError(value.location, "\(name).\(key) needs a sorry-server: below its quorum keepalived swaps the real servers for the sorry server, and without one it only logs; add sorry-server: {address: …}"))
                }
            }
        }
        let total = realServers.reduce(0) { $0 + $1.weight }
        if let quorumValue, policy.quorum + policy.hysteresis > total {
            errors.append(SpecError(quorumValue.location, "\(name).quorum \(policy.quorum) (+ hysteresis \(policy.hysteresis)) is more than the total weight of its real servers (\(total)); the sorry server would answer for good"))
        }
        return policy
    }

    private mutating func sorryServer(_ value: YAMLValue, _ name: String, match: VirtualService.Match) -> SorryServer? {
        guard let fields = attempt({ try value.map(name, allowed: ["address", "port", "forward"]) }) else { return nil }
        func field(_ key: String) -> YAMLValue? { fields.first { $0.key == key }?.value }
        guard let addressValue = field("address") else {
            errors.append(SpecError(value.location, "\(name) needs an address, e.g. {address: 198.51.100.99}"))
            return nil
        }
        guard let address = unicast(addressValue, "\(name).address", what: "a sorry server") else { return nil }
        let forwarding = field("forward").flatMap { choice($0, "\(name).forward", Forwarding.self) } ?? defaultForwarding
        var port = 0
        if case .address(_, _, let servicePort) = match { port = servicePort }
        if let portValue = field("port"), let given = number(portValue, "\(name).port", 0...65535) {
            if forwarding != .nat && given != port {
                errors.append(SpecError(portValue.location, "\(name): with \(forwarding.rawValue) forwarding the packet keeps its destination port, so the sorry server's port must be the service's (\(port)); only nat maps ports"))
            }
            port = given
        }
        let vip: IPAddress?
        switch match {
        case .address(_, let address, _): vip = address
        case .firewallMark(_, let rule): vip = rule?.vip
        }
        if let vip, forwarding == .nat, address.family != vip.family {
            errors.append(SpecError(addressValue.location, "NAT cannot forward an \(vip.family == .v4 ? "IPv4" : "IPv6") service to the sorry server \(address); use an address of the VIP's family"))
        }
        return SorryServer(address: address, port: port, forwarding: forwarding)
    }

    mutating func flag(_ value: YAMLValue, _ name: String) -> Bool? {
        guard let text = text(value, name) else { return nil }
        switch text.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            errors.append(SpecError(value.location, "\(name) '\(text)' is not true or false"))
            return nil
        }
    }
}
