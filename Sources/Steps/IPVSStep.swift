import Engine
import HostAccess
import NodeModel

/// Role step `kind: ipvs`: the spec's virtual services and real servers (and timeouts) as the IPVS
/// driver's subjects. Services of the kernel's table the spec does not list stay, unless the spec
/// owns the whole table; services an earlier generation made and the spec dropped go (the planner
/// releases them).
enum IPVSStep {
    static let kind = "ipvs"

    /// `previous`: the steps of the generation in force; what they hold is lvs-node's, not foreign
    /// (the planner or the drain step lets it go).
    static func desired(_ step: Role.Step, spec: NodeSpec, host: HostView, previous: [DesiredStep] = []) throws -> DesiredStep {
        // `only: timeouts`: the connection timeouts alone (keepalived holds the table).
        if try step.setting("only").map({ try $0.string("only") }) == "timeouts" {
            guard let timeouts = spec.ipvs?.timeouts else { return DesiredStep(name: step.name, kind: IPVSDriver.kindName, desired: []) }
            return DesiredStep(name: step.name, kind: IPVSDriver.kindName, desired: [try Self.timeouts(timeouts, try host.ipvs.control())])
        }
        guard let ipvs = spec.ipvs, !ipvs.services.isEmpty || ipvs.ownsTable || ipvs.timeouts != nil else {
            return DesiredStep(name: step.name, kind: IPVSDriver.kindName, desired: [])
        }
        let control = try host.ipvs.control()
        var desired: [Desired] = []
        desired.reserveCapacity(ipvs.services.reduce(1) { $0 + 1 + $1.realServers.count })
        var wanted = Set<IPVSServiceKey>()
        wanted.reserveCapacity(ipvs.services.count)
        // Each scheduler is looked for once (a file-system lookup), not once for each of a thousand services.
        var loadable = Set<String>()
        var states = IPVSDriver.StateTexts()
        for service in ipvs.services {
            if !loadable.contains(service.scheduler) {
                guard control.canLoadScheduler(service.scheduler) else {
                    throw MissingKernelFeature(feature: "IPVS scheduler \(service.scheduler) (module ip_vs_\(service.scheduler))",
                                               needed: "the service \(service.name)")
                }
                loadable.insert(service.scheduler)
            }
            let kernelService = Self.service(service)
            wanted.insert(kernelService.key)
            desired.append(Desired(subject: IPVSDriver.subject(kernelService.key), state: IPVSDriver.state(kernelService)))
            let serviceText = kernelService.key.text
            for server in service.realServers {
                let destination = IPVSDestination(service: kernelService.key, address: server.address.description, port: UInt16(server.port),
                                                  forwarding: Self.forwarding(server.forwarding),
                                                  weight: Int32(server.weight), upperThreshold: UInt32(server.upperThreshold),
                                                  lowerThreshold: UInt32(server.lowerThreshold))
                desired.append(Desired(subject: IPVSDriver.subject(destination, serviceText: serviceText), state: states.state(destination)))
            }
        }
        if ipvs.ownsTable {
            let ours = Set(previous.filter { $0.kind == IPVSDriver.kindName }.flatMap { $0.desired.map(\.subject) })
            let foreign = try control.services().filter { !wanted.contains($0.key) && !ours.contains(IPVSDriver.subject($0.key)) }.map(\.key)
            let foreignServers = try control.destinations().filter { foreign.contains($0.service) }
            desired += foreignServers.map { Desired(subject: IPVSDriver.subject($0), state: nil) }
            desired += foreign.map { Desired(subject: IPVSDriver.subject($0), state: nil) }
        }
        if let timeouts = ipvs.timeouts { desired.append(try Self.timeouts(timeouts, control)) }
        return DesiredStep(name: step.name, kind: IPVSDriver.kindName, desired: desired)
    }

    /// The spec's timeouts; 0 keeps the kernel's value, as `ipvsadm --set` does.
    static func timeouts(_ timeouts: ConnectionTimeouts, _ control: IPVSControl) throws -> Desired {
        let now = try control.timeouts()
        let values = IPVSTimeouts(tcp: timeouts.tcp > 0 ? UInt32(timeouts.tcp) : now.tcp,
                                  tcpFin: timeouts.tcpFin > 0 ? UInt32(timeouts.tcpFin) : now.tcpFin,
                                  udp: timeouts.udp > 0 ? UInt32(timeouts.udp) : now.udp)
        return Desired(subject: IPVSDriver.timeoutsSubject, state: IPVSDriver.state(values))
    }

    /// The kernel's forwarding method for the spec's.
    static func forwarding(_ forwarding: Forwarding) -> IPVSForwarding {
        switch forwarding {
        case .dr: return .dr
        case .tun: return .tun
        case .nat: return .nat
        }
    }

    static func proto(_ proto: ServiceProtocol) -> IPVSProtocol {
        switch proto {
        case .tcp: return .tcp
        case .udp: return .udp
        case .sctp: return .sctp
        }
    }

    /// The kernel's form of a service of the spec.
    static func service(_ service: VirtualService) -> IPVSService {
        let key: IPVSServiceKey
        switch service.match {
        case .address(let proto, let vip, let port):
            key = .address(Self.proto(proto), address: vip.description, port: UInt16(port))
        case .firewallMark(let mark, let rule):
            key = .firewallMark(UInt32(mark), ipv6: rule?.vip.family == .v6)
        }
        var result = IPVSService(key: key, scheduler: service.scheduler)
        for flag in service.flags { result.flags |= IPVSDriver.flagBit(flag) ?? 0 }
        if let persistence = service.persistence {
            result.flags |= IPVSService.persistent
            result.timeout = UInt32(persistence)
            if let netmask = service.netmask {
                if key.isIPv6 {
                    result.netmask = UInt32(netmask) ?? 128
                } else if let mask = IPAddress(netmask) {
                    result.netmask = mask.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                }
            }
        }
        return result
    }
}
