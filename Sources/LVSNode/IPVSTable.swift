import Engine
import HostAccess
import Steps

/// The kernel's IPVS table the way operators read it (`ipvsadm -Ln`), each line marked where it
/// differs from the generation in force: `[drift: spec wants …]`, `[missing]`, `[not lvs-node's]`.
enum IPVSTable {
    static func lines(services: [IPVSService], destinations: [IPVSDestination], wanted: [String: String?]) -> [String] {
        var lines = ["Prot LocalAddress:Port Scheduler Flags",
                     "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
        func mark(_ subject: String, _ state: String) -> String {
            guard let entry = wanted[subject] else { return "  [not lvs-node's]" }
            guard let want = entry else { return "  [drift: spec removes it]" }
            return want == state ? "" : "  [drift: spec wants \(want)]"
        }
        var shown = Set<String>()
        let byService = Dictionary(grouping: destinations, by: \.service)
        for service in services.sorted(by: { $0.key < $1.key }) {
            let subject = IPVSDriver.subject(service.key)
            shown.insert(subject)
            lines.append(serviceLine(service.key, IPVSDriver.state(service)) + mark(subject, IPVSDriver.state(service)))
            for destination in (byService[service.key] ?? []).sorted(by: { $0.endpoint < $1.endpoint }) {
                let server = IPVSDriver.subject(destination)
                shown.insert(server)
                let line = "  -> " + pad(destination.endpoint, 28) + " " + pad(destination.forwarding.ipvsadmName, 7) + " "
                    + pad(String(destination.weight), 6) + " " + pad(String(destination.activeConnections), 10) + " "
                    + String(destination.inactiveConnections)
                lines.append(line + mark(server, IPVSDriver.state(destination)))
            }
        }
        for (subject, state) in wanted.sorted(by: { $0.key < $1.key }) where !shown.contains(subject) {
            guard let state, subject != IPVSDriver.timeoutsSubject else { continue }
            lines.append("\(subject) [missing; spec wants \(state)]")
        }
        return lines
    }

    /// `TCP  192.0.2.10:80 wrr persistent 300 mask 255.255.255.255`, `FWM  1 rr`.
    private static func serviceLine(_ key: IPVSServiceKey, _ state: String) -> String {
        let details = state.replacingNetmask
        switch key {
        case .address(let proto, let address, let port):
            return "\(proto.rawValue.uppercased())  \(IPVSServiceKey.endpoint(address, port)) \(details)"
        case .firewallMark(let mark, let ipv6):
            return "FWM  \(mark)\(ipv6 ? " IPv6" : "") \(details)"
        }
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

private extension String {
    /// ipvsadm says `mask`, the state says `netmask`.
    var replacingNetmask: String { split(separator: " ").map { $0 == "netmask" ? "mask" : String($0) }.joined(separator: " ") }
}
