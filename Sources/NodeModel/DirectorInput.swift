/// Reads and checks the director's sections of the spec (`services`, `timeouts`, `owns-table`,
/// `drain`, `ha`), collecting every problem with where it stands and what would be right.
struct DirectorInput {
    /// The role's mode: the forwarding of a real server that names none.
    let defaultForwarding: Forwarding
    var errors: [SpecError] = []

    static let schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"]
    /// Scheduler flags and the scheduler each belongs to; `ops` (one-packet scheduling) suits any.
    static let schedulerFlags = ["sh-fallback": "sh", "sh-port": "sh", "mh-fallback": "mh", "mh-port": "mh", "ops": ""]

    // MARK: - services

    mutating func services(_ value: YAMLValue) -> [VirtualService] {
        guard let entries = attempt({ try value.list("services") }) else { return [] }
        var result: [VirtualService] = []
        result.reserveCapacity(entries.count)
        // The index of each service's entry: its location is text worth building only for an error.
        var seen: [String: Int] = [:]
        seen.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            guard let service = service(entry, "services[\(index)]") else { continue }
            let name = service.name
            if let earlier = seen[name] {
                errors.append(SpecError(entry.location, "the service \(name) is listed twice (first at \(entries[earlier].location)); list each service once"))
                continue
            }
            seen[name] = index
            result.append(service)
        }
        return result
    }

    private static let serviceKeys = ["protocol", "vip", "port", "fwmark", "ports", "scheduler", "flags", "persistence", "netmask",
                                      "real-servers", "check"] + healthPolicyKeys

    private mutating func service(_ entry: YAMLValue, _ name: @autoclosure () -> String) -> VirtualService? {
        guard let fields = attempt({ try entry.map(name(), allowed: Self.serviceKeys) }) else { return nil }
        let given = ServiceFields(fields)
        let before = errors.count

        let proto = given.proto.flatMap { choice($0, "\(name()).protocol", ServiceProtocol.self) } ?? .tcp
        let vip = given.vip.flatMap { unicast($0, "\(name()).vip", what: "a VIP") }
        let match: VirtualService.Match
        if let markValue = given.fwmark {
            let mark = number(markValue, "\(name()).fwmark", 1...Int(UInt32.max)) ?? 1
            if let port = given.port {
                errors.append(SpecError(port.location, "\(name()): a firewall-mark service has no single port; list the ports it gathers under ports: [80, 88]"))
            }
            var rule: MarkRule?
            if let portsValue = given.ports {
                var ports: [Int] = []
                let entries: [YAMLValue] = attempt({ try portsValue.list("\(name()).ports") }) ?? []
                for (index, port) in entries.enumerated() {
                    if let number = number(port, "\(name()).ports[\(index)]", 1...65535) { ports.append(number) }
                }
                if let vip {
                    rule = MarkRule(vip: vip, proto: proto, ports: ports)
                } else {
                    errors.append(SpecError(portsValue.location, "\(name()): marking packets by port needs the vip they are sent to, e.g. vip: 192.0.2.10"))
                }
                if Set(ports).count != ports.count { errors.append(SpecError(portsValue.location, "\(name()).ports lists a port twice")) }
            } else if let vip = given.vip {
                errors.append(SpecError(vip.location, "\(name()): a firewall-mark service's vip is used only with ports: […] to mark its packets; give ports too, or leave vip out when the marks are set elsewhere"))
            }
            match = .firewallMark(mark, rule: rule)
        } else {
            guard let vip else {
                errors.append(SpecError(entry.location, "\(name()) needs a vip and a port (e.g. vip: 192.0.2.10, port: 80) or a fwmark"))
                return nil
            }
            if let ports = given.ports {
                errors.append(SpecError(ports.location, "\(name()): ports: […] groups ports under a firewall mark; add fwmark: N, or give one port:"))
            }
            let persistent = given.hasPersistence
            guard let portValue = given.port else {
                errors.append(SpecError(entry.location, "\(name()) needs a port (1-65535; 0 only for a persistent all-ports service)"))
                return nil
            }
            let port = number(portValue, "\(name()).port", (persistent ? 0 : 1)...65535) ?? 0
            match = .address(proto, vip, port: port)
        }

        let scheduler = given.scheduler.flatMap { text($0, "\(name()).scheduler") } ?? "wlc"
        if !Self.schedulers.contains(scheduler), let value = given.scheduler {
            errors.append(SpecError(value.location, "'\(scheduler)' is not an IPVS scheduler; use one of: \(Self.schedulers.joined(separator: ", "))"))
        }
        var flags: [String] = []
        if let value = given.flags {
            let entries: [YAMLValue] = attempt({ try value.list("\(name()).flags") }) ?? []
            for (index, item) in entries.enumerated() {
                guard let flag = text(item, "\(name()).flags[\(index)]") else { continue }
                guard let owner = Self.schedulerFlags[flag] else {
                    errors.append(SpecError(item.location, "'\(flag)' is not a service flag; the flags are: \(Self.schedulerFlags.keys.sorted().joined(separator: ", "))"))
                    continue
                }
                if flag == "ops" && proto != .udp {
                    errors.append(SpecError(item.location, "ops (one-packet scheduling) applies to UDP services only"))
                    continue
                }
                if !owner.isEmpty && owner != scheduler {
                    errors.append(SpecError(item.location, "the flag \(flag) belongs to the \(owner) scheduler, not \(scheduler)"))
                    continue
                }
                flags.append(flag)
            }
        }
        let persistence = given.persistence.flatMap { number($0, "\(name()).persistence", 1...Int(Int32.max)) }
        let isIPv6 = vip?.family == .v6
        var netmask: String?
        if let value = given.netmask, let text = text(value, "\(name()).netmask") {
            if persistence == nil {
                errors.append(SpecError(value.location, "\(name()).netmask groups clients for persistence; it needs persistence: SECONDS"))
            } else if isIPv6 ? !(Int(text).map { (1...128).contains($0) } ?? false) : Self.maskLength(text) == nil {
                errors.append(SpecError(value.location, isIPv6 ? "'\(text)' is not an IPv6 prefix length (1-128)"
                                                               : "'\(text)' is not an IPv4 netmask such as 255.255.255.0"))
            } else {
                netmask = text
            }
        }
        let check = given.check.flatMap { healthCheck($0, "\(name()).check") }

        var realServers: [RealServer] = []
        if let value = given.realServers {
            // By address and port, not by their text: a table's worth of strings made only to compare them.
            // A service's few real servers are compared with those before them (a set and its hashing
            // cost more); a long list goes through a set, so it stays linear.
            struct Endpoint: Hashable { let address: IPAddress, port: Int }
            var seen = Set<Endpoint>()
            let entries: [YAMLValue] = attempt({ try value.list("\(name()).real-servers") }) ?? []
            let searchesEarlier = entries.count <= 16
            if !searchesEarlier { seen.reserveCapacity(entries.count) }
            realServers.reserveCapacity(entries.count)
            for (index, item) in entries.enumerated() {
                guard let server = realServer(item, "\(name()).real-servers[\(index)]", match: match) else { continue }
                let listedBefore = searchesEarlier
                    ? realServers.contains { $0.port == server.port && $0.address == server.address }
                    : !seen.insert(Endpoint(address: server.address, port: server.port)).inserted
                if listedBefore {
                    errors.append(SpecError(item.location, "the real server \(server.endpoint) is listed twice in \(name())"))
                    continue
                }
                if let vip, server.address == vip {
                    errors.append(SpecError(item.location, "the real server \(server.address) is the service's own VIP; a real server must be another host"))
                }
                if let vip, server.address.family != vip.family, server.forwarding == Forwarding.nat {
                    errors.append(SpecError(item.location, "NAT cannot forward an \(vip.family == .v4 ? "IPv4" : "IPv6") service to \(server.address); use an address of the VIP's family"))
                }
                realServers.append(server)
            }
        }
        let health = healthPolicy(given.policy, name(), match: match, realServers: realServers)
        guard errors.count == before else { return nil }
        return VirtualService(match: match, scheduler: scheduler, flags: flags, persistence: persistence, netmask: netmask,
                              realServers: realServers, check: check, health: health)
    }

    private static let realServerKeys = ["address", "port", "forward", "weight", "upper-threshold", "lower-threshold", "check"]

    private mutating func realServer(_ entry: YAMLValue, _ name: @autoclosure () -> String, match: VirtualService.Match) -> RealServer? {
        guard let fields = attempt({ try entry.map(name(), allowed: Self.realServerKeys) }) else { return nil }
        let given = RealServerFields(fields)
        guard let addressValue = given.address else {
            errors.append(SpecError(entry.location, "\(name()) needs an address, e.g. {address: 198.51.100.11}"))
            return nil
        }
        guard let address = unicast(addressValue, "\(name()).address", what: "a real server") else { return nil }
        let forwarding = given.forward.flatMap { choice($0, "\(name()).forward", Forwarding.self) } ?? defaultForwarding
        var port = 0
        if case .address(_, _, let servicePort) = match { port = servicePort }
        if let value = given.port, let requested = number(value, "\(name()).port", 0...65535) {
            if forwarding != .nat && requested != port {
                errors.append(SpecError(value.location, "\(name()): with \(forwarding.rawValue) forwarding the packet keeps its destination port, so the real server's port must be the service's (\(port)); only nat maps ports"))
            }
            port = requested
        }
        let weight = given.weight.flatMap { number($0, "\(name()).weight", 0...65535) } ?? 1
        let upper = given.upperThreshold.flatMap { number($0, "\(name()).upper-threshold", 0...Int(Int32.max)) } ?? 0
        let lower = given.lowerThreshold.flatMap { number($0, "\(name()).lower-threshold", 0...Int(Int32.max)) } ?? 0
        if upper > 0 && lower > upper, let value = given.lowerThreshold {
            errors.append(SpecError(value.location, "\(name()): the lower threshold \(lower) is above the upper threshold \(upper)"))
        }
        let check = given.check.flatMap { healthCheck($0, "\(name()).check") }
        return RealServer(address: address, port: port, forwarding: forwarding, weight: weight, upperThreshold: upper,
                          lowerThreshold: lower, check: check)
    }

    /// A service's fields, each found in one pass over its mapping: a search of the mapping per
    /// question copied a value or compared keys a dozen times for each of a table's services. Each
    /// field is kept as its position (-1: absent), so only a field asked for is copied; the keys are
    /// read apart from their values (reading a pair copied its value).
    /// `map(allowed:)` has refused unknown keys and the reader a key given twice.
    private struct ServiceFields {
        private let pairs: [(key: String, value: YAMLValue)]
        private var protoAt = -1, vipAt = -1, portAt = -1, fwmarkAt = -1, portsAt = -1, schedulerAt = -1, flagsAt = -1,
                    persistenceAt = -1, netmaskAt = -1, checkAt = -1, realServersAt = -1
        /// The health policy's keys (`healthPolicyKeys`), rarely given: searched when asked for.
        private(set) var policy: [(key: String, value: YAMLValue)] = []

        init(_ pairs: [(key: String, value: YAMLValue)]) {
            self.pairs = pairs
            for (index, key) in pairs.lazy.map(\.key).enumerated() {
                switch key {
                case "protocol": protoAt = index
                case "vip": vipAt = index
                case "port": portAt = index
                case "fwmark": fwmarkAt = index
                case "ports": portsAt = index
                case "scheduler": schedulerAt = index
                case "flags": flagsAt = index
                case "persistence": persistenceAt = index
                case "netmask": netmaskAt = index
                case "check": checkAt = index
                case "real-servers": realServersAt = index
                default: policy.append(pairs[index])
                }
            }
        }

        var proto: YAMLValue? { value(protoAt) }
        var vip: YAMLValue? { value(vipAt) }
        var port: YAMLValue? { value(portAt) }
        var fwmark: YAMLValue? { value(fwmarkAt) }
        var ports: YAMLValue? { value(portsAt) }
        var scheduler: YAMLValue? { value(schedulerAt) }
        var flags: YAMLValue? { value(flagsAt) }
        var persistence: YAMLValue? { value(persistenceAt) }
        var hasPersistence: Bool { persistenceAt >= 0 }
        var netmask: YAMLValue? { value(netmaskAt) }
        var check: YAMLValue? { value(checkAt) }
        var realServers: YAMLValue? { value(realServersAt) }

        private func value(_ index: Int) -> YAMLValue? { index < 0 ? nil : pairs[index].value }
    }

    /// A real server's fields in one pass, as for a service: a table has ten thousand of them.
    private struct RealServerFields {
        private let pairs: [(key: String, value: YAMLValue)]
        private var addressAt = -1, portAt = -1, forwardAt = -1, weightAt = -1, upperAt = -1, lowerAt = -1, checkAt = -1

        init(_ pairs: [(key: String, value: YAMLValue)]) {
            self.pairs = pairs
            for (index, key) in pairs.lazy.map(\.key).enumerated() {
                switch key {
                case "address": addressAt = index
                case "port": portAt = index
                case "forward": forwardAt = index
                case "weight": weightAt = index
                case "upper-threshold": upperAt = index
                case "lower-threshold": lowerAt = index
                case "check": checkAt = index
                default: break
                }
            }
        }

        var address: YAMLValue? { value(addressAt) }
        var port: YAMLValue? { value(portAt) }
        var forward: YAMLValue? { value(forwardAt) }
        var weight: YAMLValue? { value(weightAt) }
        var upperThreshold: YAMLValue? { value(upperAt) }
        var lowerThreshold: YAMLValue? { value(lowerAt) }
        var check: YAMLValue? { value(checkAt) }

        private func value(_ index: Int) -> YAMLValue? { index < 0 ? nil : pairs[index].value }
    }

    private mutating func healthCheck(_ value: YAMLValue, _ name: @autoclosure () -> String) -> HealthCheck? {
        let keys = ["type", "path", "status", "connect-timeout", "retry", "delay-before-retry", "delay-loop"]
        guard let fields = attempt({ try value.map(name(), allowed: keys) }) else { return nil }
        func field(_ key: String) -> YAMLValue? { fields.first { $0.key == key }?.value }
        let timing = HealthCheck.Timing(
            connectTimeout: field("connect-timeout").flatMap { number($0, "\(name()).connect-timeout", 1...3600) } ?? 3,
            retry: field("retry").flatMap { number($0, "\(name()).retry", 0...100) } ?? 3,
            delayBeforeRetry: field("delay-before-retry").flatMap { number($0, "\(name()).delay-before-retry", 1...3600) } ?? 3,
            delayLoop: field("delay-loop").flatMap { number($0, "\(name()).delay-loop", 1...3600) } ?? 6)
        switch field("type").flatMap({ text($0, "\(name()).type") }) ?? "tcp" {
        case "tcp":
            for key in ["path", "status"] {
                if let extra = field(key) { errors.append(SpecError(extra.location, "\(name()): \(key) belongs to an http check (type: http)")) }
            }
            return .tcp(timing)
        case "http":
            let path = field("path").flatMap { text($0, "\(name()).path") } ?? "/"
            if let problem = ValueSyntax.httpPathProblem(path) {
                errors.append(SpecError(field("path")?.location ?? value.location, "\(name()).path is not a URL path keepalived can take: \(problem)"))
            }
            let status = field("status").flatMap { number($0, "\(name()).status", 100...599) } ?? 200
            return .http(path: path, status: status, timing)
        case let other:
            errors.append(SpecError(field("type")?.location ?? value.location, "'\(other)' is not a check type; use tcp or http"))
            return nil
        }
    }

    // MARK: - timeouts, ha

    mutating func timeouts(_ value: YAMLValue) -> ConnectionTimeouts? {
        guard let fields = attempt({ try value.map("timeouts", allowed: ["tcp", "tcpfin", "udp"]) }) else { return nil }
        func seconds(_ key: String) -> Int {
            fields.first { $0.key == key }.flatMap { number($0.value, "timeouts.\(key)", 1...Int(Int32.max)) } ?? 0
        }
        return ConnectionTimeouts(tcp: seconds("tcp"), tcpFin: seconds("tcpfin"), udp: seconds("udp"))
    }

    private static let haKeys = ["state", "priority", "interface", "virtual-router-id", "advert-int", "password",
                                 "unicast-source", "unicast-peers"] + haBehaviourKeys

    mutating func ha(_ value: YAMLValue) -> HASpec? {
        guard let fields = attempt({ try value.map("ha", allowed: Self.haKeys) }) else { return nil }
        func field(_ key: String) -> YAMLValue? { fields.first { $0.key == key }?.value }
        let before = errors.count
        func required(_ key: String, _ example: String) -> YAMLValue? {
            if let found = field(key) { return found }
            errors.append(SpecError(value.location, "ha needs \(key), e.g. \(key): \(example)"))
            return nil
        }
        let state = required("state", "MASTER").flatMap { choice($0, "ha.state", HASpec.State.self) }
        let priority = required("priority", "150").flatMap { number($0, "ha.priority", 1...255) }
        let interface = required("interface", "eth0").flatMap { interfaceName($0, "ha.interface") }
        let router = required("virtual-router-id", "51").flatMap { number($0, "ha.virtual-router-id", 1...255) }
        let advert = field("advert-int").flatMap { number($0, "ha.advert-int", 1...255) } ?? 1
        var password: String?
        if let value = field("password"), let text = text(value, "ha.password") {
            if text == SpecYAML.maskedSecret {
                // What `show` prints to a user who may not read the password: fed back, it would quietly
                // change the pair's password.
                errors.append(SpecError(value.location, "ha.password is the mask lvs-node show prints to users other than root; run show as root to get the password"))
            } else if let problem = ValueSyntax.vrrpPasswordProblem(text) {
                errors.append(SpecError(value.location, "ha.password is not a VRRP password keepalived can take: \(problem)"))
            } else {
                password = text
            }
        }
        let source = field("unicast-source").flatMap { unicast($0, "ha.unicast-source", what: "a VRRP source address") }
        var peers: [IPAddress] = []
        if let list = field("unicast-peers") {
            let entries: [YAMLValue] = attempt({ try list.list("ha.unicast-peers") }) ?? []
            for (index, peer) in entries.enumerated() {
                if let address = unicast(peer, "ha.unicast-peers[\(index)]", what: "a VRRP peer") { peers.append(address) }
            }
        }
        if source != nil && peers.isEmpty, let value = field("unicast-source") {
            errors.append(SpecError(value.location, "ha.unicast-source needs unicast-peers: [the other director's address]"))
        }
        let sync = syncDaemon(field, virtualRouterID: router)
        let notification = notification(field)
        guard errors.count == before, let state, let priority, let interface, let router else { return nil }
        if state == .BACKUP && priority == 255 {
            errors.append(SpecError(field("priority")!.location, "priority 255 is reserved for the address owner; a BACKUP needs 1-254"))
            return nil
        }
        return HASpec(state: state, priority: priority, interface: interface, virtualRouterID: router, advertInterval: advert,
                      password: password, unicastSource: source, unicastPeers: peers, syncDaemon: sync, notification: notification)
    }

    // MARK: - values

    mutating func attempt<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as SpecError {
            errors.append(error)
        } catch {
            errors.append(SpecError("spec", "\(error)"))
        }
        return nil
    }

    mutating func text(_ value: YAMLValue, _ name: @autoclosure () -> String) -> String? {
        if case .scalar(let text) = value.content { return text }
        return attempt { try value.string(name()) }
    }

    mutating func number(_ value: YAMLValue, _ name: @autoclosure () -> String, _ range: ClosedRange<Int>) -> Int? {
        guard let text = text(value, name()) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            errors.append(SpecError(value.location, "\(name()) '\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return number
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ value: YAMLValue, _ name: @autoclosure () -> String, _: T.Type) -> T?
    where T.RawValue == String {
        guard let text = text(value, name()) else { return nil }
        if let found = T(rawValue: text) { return found }
        errors.append(SpecError(value.location, "'\(text)' is not a choice for \(name()); use one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))"))
        return nil
    }

    mutating func unicast(_ value: YAMLValue, _ name: @autoclosure () -> String, what: String) -> IPAddress? {
        guard let text = text(value, name()) else { return nil }
        guard let address = IPAddress(text) else {
            errors.append(SpecError(value.location, "\(name()) '\(text)' is not an IP address; write \(what) as 192.0.2.10 or 2001:db8::10, without a prefix"))
            return nil
        }
        if let reason = address.reasonNotUnicast {
            errors.append(SpecError(value.location, "\(address) cannot be \(what) because \(reason); \(address.unicastAdvice)"))
            return nil
        }
        return address
    }

    mutating func interfaceName(_ value: YAMLValue, _ name: String) -> String? {
        guard let text = text(value, name) else { return nil }
        if let problem = ValueSyntax.interfaceNameProblem(text) {
            errors.append(SpecError(value.location, "'\(text)' is not an interface name: \(problem)"))
            return nil
        }
        return text
    }

    /// The prefix length of a contiguous IPv4 netmask, or nil.
    static func maskLength(_ text: String) -> Int? {
        guard let mask = IPAddress(text), mask.family == .v4 else { return nil }
        let value = mask.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let ones = value.nonzeroBitCount
        guard ones > 0, value == UInt32.max << (32 - ones) else { return nil }
        return ones
    }
}
