import Engine
import HostAccess
import Steps

/// The kernel's IPVS table the way operators read it (`ipvsadm -Ln`), each line marked where it
/// differs from the generation in force: `[drift: spec wants …]`, `[missing]`, `[not lvs-node's]`,
/// and a real server leaving under `drain:` as `[draining until …]`.
enum IPVSTable {
    static func lines(services: [IPVSService], destinations: [IPVSDestination], wanted: [String: String?],
                      draining: [String: DrainDeadline] = [:]) -> [String] {
        var lines = ["Prot LocalAddress:Port Scheduler Flags",
                     "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
        func mark(_ subject: String, _ state: String) -> String {
            guard let entry = wanted[subject] else { return "  [not lvs-node's]" }
            guard let want = entry else { return "  [drift: spec removes it]" }
            guard want == state else { return "  [drift: spec wants \(want)]" }
            return draining[subject].map { "  [draining until \($0.text): removed by the next setup once its connections end]" } ?? ""
        }
        // What the spec wants that the kernel lacks, by the service text it belongs to.
        var missing: [String: [(endpoint: String, state: String)]] = [:]
        var missingServices: [(text: String, state: String)] = []
        let live = Set(services.map { IPVSDriver.subject($0.key) } + destinations.map { IPVSDriver.subject($0) })
        for (subject, state) in wanted.sorted(by: { $0.key < $1.key }) where !live.contains(subject) {
            guard let state else { continue }
            if subject.hasPrefix("service ") {
                missingServices.append((String(subject.dropFirst(8)), state))
            } else if subject.hasPrefix("server "), let space = subject.lastIndex(of: " ") {
                let service = String(subject[subject.index(subject.startIndex, offsetBy: 7)..<space])
                missing[service, default: []].append((String(subject[subject.index(after: space)...]), state))
            }
        }
        func missingServers(_ service: String) -> [String] {
            (missing[service] ?? []).map { "  -> " + pad($0.endpoint, 28) + " [missing; spec wants \($0.state)]" }
        }
        let byService = Dictionary(grouping: destinations, by: \.service)
        for service in services.sorted(by: { $0.key < $1.key }) {
            let subject = IPVSDriver.subject(service.key)
            lines.append(serviceLine(service.key, IPVSDriver.state(service)) + mark(subject, IPVSDriver.state(service)))
            for destination in (byService[service.key] ?? []).sorted(by: { $0.endpoint < $1.endpoint }) {
                let line = "  -> " + pad(destination.endpoint, 28) + " " + pad(destination.forwarding.ipvsadmName, 7) + " "
                    + pad(String(destination.weight), 6) + " " + pad(String(destination.activeConnections), 10) + " "
                    + String(destination.inactiveConnections)
                lines.append(line + mark(IPVSDriver.subject(destination), IPVSDriver.state(destination)))
            }
            lines += missingServers(service.key.text)
        }
        for service in missingServices {
            lines.append("\(service.text) [missing; spec wants \(service.state)]")
            lines += missingServers(service.text)
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
