import NodeModel
import Testing

/// The director's sections: what resolves, and every refusal with where and what would be right.
@Suite struct DirectorSpecTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func resolve(_ body: String, mode: String = "dr") throws -> NodeSpec {
        try SpecInput.fromYAML("role: director\nmode: \(mode)\n" + body, source: "d.yaml").resolve(with: catalog).0
    }

    func errors(_ body: String, mode: String = "dr") -> [String] {
        do {
            _ = try resolve(body, mode: mode)
            return []
        } catch let error as SpecErrors {
            return error.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aFullSpecResolves() throws {
        let spec = try resolve("""
            interface: eth0
            services:
              - vip: 192.0.2.10
                port: 80
                scheduler: sh
                flags: [sh-port, sh-fallback]
                persistence: 300
                netmask: 255.255.255.0
                check: {type: http, path: /health, status: 204}
                real-servers:
                  - {address: 198.51.100.11, weight: 3, upper-threshold: 100, lower-threshold: 10}
                  - {address: 198.51.100.12, forward: tun, check: {type: tcp, connect-timeout: 2}}
              - {fwmark: 7, vip: 2001:db8::10, protocol: udp, ports: [53, 5353], scheduler: rr, flags: [ops]}
            timeouts: {tcp: 900, udp: 60}
            owns-table: true
            drain: 20
            """)
        #expect(spec.interface == "eth0")
        #expect(spec.vips.map(\.description) == ["192.0.2.10", "2001:db8::10"])
        let ipvs = try #require(spec.ipvs)
        #expect(ipvs.ownsTable && ipvs.drainSeconds == 20)
        #expect(ipvs.timeouts == ConnectionTimeouts(tcp: 900, tcpFin: 0, udp: 60))
        let web = ipvs.services[0]
        #expect(web.name == "tcp 192.0.2.10:80" && web.flags == ["sh-port", "sh-fallback"] && web.persistence == 300)
        #expect(web.check == .http(path: "/health", status: 204, HealthCheck.Timing()))
        #expect(web.realServers[0] == RealServer(address: IPAddress("198.51.100.11")!, port: 80, forwarding: .dr, weight: 3,
                                                  upperThreshold: 100, lowerThreshold: 10))
        #expect(web.realServers[1].forwarding == .tun && web.realServers[1].check == .tcp(HealthCheck.Timing(connectTimeout: 2)))
        #expect(ipvs.services[1].name == "fwmark 7 ipv6")
        #expect(ipvs.services[1].realServers.isEmpty)
    }

    @Test func theModeIsTheRealServersDefaultForwarding() throws {
        let spec = try resolve("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 198.51.100.11, port: 8080}]}]\n", mode: "nat")
        #expect(spec.ipvs?.services[0].realServers[0].forwarding == .nat)
        #expect(spec.ipvs?.services[0].scheduler == "wlc")
    }

    @Test(arguments: [
        ("services: [{vip: 192.0.2.10, port: 80}]", "the director needs the interface its VIPs go on"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, scheduler: fastest}]", "'fastest' is not an IPVS scheduler; use one of: rr, wrr"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, scheduler: wrr, flags: [sh-port]}]", "the flag sh-port belongs to the sh scheduler, not wrr"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, flags: [ops]}]", "ops (one-packet scheduling) applies to UDP services only"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 198.51.100.11, port: 8080}]}]", "only nat maps ports"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 192.0.2.10}]}]", "is the service's own VIP"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80}, {vip: 192.0.2.10, port: 80}]", "the service tcp 192.0.2.10:80 is listed twice"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 198.51.100.11}, {address: 198.51.100.11}]}]", "is listed twice in services[0]"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, netmask: 255.255.255.0}]", "it needs persistence: SECONDS"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, persistence: 60, netmask: 255.0.255.0}]", "is not an IPv4 netmask"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 0}]", "must be a whole number from 1 to 65535"),
        ("interface: eth0\nservices: [{fwmark: 1, port: 80}]", "a firewall-mark service has no single port"),
        ("interface: eth0\nservices: [{fwmark: 0}]", "services[0].fwmark '0' must be a whole number from 1"),
        ("interface: eth0\nservices: [{port: 80}]", "needs a vip and a port"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 198.51.100.11, upper-threshold: 5, lower-threshold: 9}]}]", "the lower threshold 9 is above the upper threshold 5"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, check: {type: icmp}}]", "'icmp' is not a check type; use tcp or http"),
        ("interface: eth0\nservices: [{vip: 192.0.2.10, port: 80, colour: blue}]", "unknown key 'colour' in services[0]"),
        ("interface: eth0\ndrain: soon\nservices: [{vip: 192.0.2.10, port: 80}]", "drain 'soon' must be the seconds"),
        ("interface: eth0:0\nservices: [{vip: 192.0.2.10, port: 80}]", "'eth0:0' is not an interface name"),
        ("ha: {state: LEADER, priority: 100, interface: eth0, virtual-router-id: 51}", "'LEADER' is not a choice for ha.state; use one of: MASTER, BACKUP"),
        ("ha: {state: BACKUP, priority: 255, interface: eth0, virtual-router-id: 51}", "priority 255 is reserved for the address owner"),
        ("ha: {state: MASTER, priority: 100, interface: eth0, virtual-router-id: 256}", "ha.virtual-router-id '256' must be a whole number from 1 to 255"),
        ("ha: {state: MASTER, priority: 100, interface: eth0, virtual-router-id: 5, password: longerthan8}", "ha.password is not a VRRP password keepalived can take: it must be 1 to 8 characters"),
        ("ha: {state: MASTER, priority: 100, virtual-router-id: 5}", "ha needs interface, e.g. interface: eth0"),
    ])
    func aBadDirectorSpecIsRefusedWithWhereAndWhy(body: String, message: String) {
        let found = errors(body)
        #expect(found.contains { $0.contains(message) }, "\(found)")
        #expect(found.allSatisfy { $0.hasPrefix("d.yaml") || $0.hasPrefix("--interface") || $0.hasPrefix("services") }, "\(found)")
    }

    @Test func directorSectionsAreRefusedForOtherRoles() throws {
        let found = try #require(throws: SpecErrors.self) {
            try SpecInput.fromYAML("role: realserver\nvips: [192.0.2.10]\nservices: []\n", source: "r.yaml").resolve(with: catalog)
        }
        #expect(found.errors.map(\.message) == ["services, timeouts, owns-table, drain and kernel is not used by role realserver in mode dr"])
    }

    @Test func haPairsAreCheckedTogether() throws {
        func node(_ name: String, _ ha: String, vip: String = "192.0.2.10") throws -> HAPairCheck.Node {
            HAPairCheck.Node(source: name, spec: try resolve("services: [{vip: \(vip), port: 80}]\nha: {\(ha)}\n"))
        }
        let master = try node("a.yaml", "state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51, password: pw")
        let backup = try node("b.yaml", "state: BACKUP, priority: 100, interface: eth0, virtual-router-id: 51, password: pw")
        #expect(HAPairCheck.problems([master, backup]).isEmpty)

        let proud = try node("b.yaml", "state: BACKUP, priority: 200, interface: eth0, virtual-router-id: 51, password: pw")
        #expect(HAPairCheck.problems([master, proud]).map(\.description)
                == ["b.yaml: this BACKUP has priority 200, not below the MASTER's 150 (a.yaml); it would take the VIPs from the master; give it a lower priority"])
        let other = try node("c.yaml", "state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51, password: pw", vip: "192.0.2.20")
        #expect(HAPairCheck.problems([master, backup, other]).map(\.message).contains {
            $0.hasPrefix("virtual_router_id 51 on eth0 is already used by a.yaml for other VIPs")
        })
        let stranger = try node("d.yaml", "state: BACKUP, priority: 100, interface: eth0, virtual-router-id: 51, password: other")
        #expect(HAPairCheck.problems([master, stranger]).map(\.message).contains { $0.contains("the VRRP password differs") })
    }
}
