import Testing
@testable import NodeModel

/// The spec's YAML is written into bytes in place; what it writes must be the text the release before
/// made of Strings (`SpecYAMLAsStrings`, kept below as it was): generations keep this text, and a
/// generation written again for the same spec must not differ.
@Suite struct SpecYAMLInPlaceTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func resolve(_ text: String) throws -> NodeSpec {
        try SpecInput.fromYAML(text, source: "spec.yaml").resolve(with: catalog).0
    }

    func expectSameText(_ spec: NodeSpec, _ label: String) {
        #expect(spec.yaml == SpecYAMLAsStrings.text(spec, maskingSecrets: false), "\(label)")
        #expect(spec.maskedYAML == SpecYAMLAsStrings.text(spec, maskingSecrets: true), "\(label), masked")
    }

    @Test func theYAMLWrittenInPlaceIsTheTextStringsMade() throws {
        for (index, text) in try ReadmeSpecTests.specs().enumerated() { expectSameText(try resolve(text), "README example \(index + 1)") }
        var director = try resolve("""
            role: director
            mode: nat
            interface: eth0.100
            vips: [192.0.2.10, 2001:db8::10, 9.0.0.0]
            services:
              - {protocol: tcp, vip: 192.0.2.10, port: 80, scheduler: sh, flags: [sh-port, sh-fallback], persistence: 600,
                 netmask: 255.255.255.0, check: {type: http, path: "/h%22x", status: 204, connect-timeout: 5, retry: 0, delay-before-retry: 9},
                 real-servers: [{address: 198.51.100.11, port: 8080, weight: 0, upper-threshold: 100, lower-threshold: 10, check: {type: tcp, retry: 7}},
                                {address: 198.51.100.112, port: 65535, weight: 65535}, {address: 10.0.0.1, port: 0, weight: 1}]}
              - {protocol: udp, vip: 2001:db8::10, port: 53, scheduler: rr, flags: [ops], real-servers: [{address: 2001:db8::11, port: 5353}]}
              - {fwmark: 7, protocol: tcp, vip: 192.0.2.11, ports: [80, 443], scheduler: mh, flags: [mh-port], persistence: 30,
                 real-servers: [{address: 198.51.100.13, forward: dr}]}
              - {fwmark: 4294967295, scheduler: wlc, quorum: 1, hysteresis: 0, sorry-server: {address: 203.0.113.9, port: 8080},
                 alpha: false, inhibit-on-failure: true, real-servers: [{address: 198.51.100.14, forward: tun}]}
              - {protocol: sctp, vip: 192.0.2.12, port: 0, persistence: 1, scheduler: lc}
            timeouts: {tcp: 900, udp: 30}
            owns-table: true
            drain: 3600
            ha: {state: BACKUP, priority: 254, interface: eth0.100, virtual-router-id: 255, advert-int: 3, password: "a'b:c,[]",
                 unicast-source: 203.0.113.1, unicast-peers: [203.0.113.2, 2001:db8::3], notify-master: /usr/local/bin/m}
            persist: none
            init: systemd
            """)
        expectSameText(director, "director with HA")
        // Values the validator would refuse, set afterwards: the quoting must still agree.
        director.interface = "eth\t0\"é\\"
        director.ipvs?.services[0].scheduler = "w\u{7f}rr\n"
        director.ipvs?.services[0].flags = ["a\"b", "c\u{85}"]
        director.ha?.password = "p\"w\\d\r"
        director.ha?.interface = "ü"
        expectSameText(director, "director with hostile values")
        expectSameText(try resolve("role: router\naddresses: [{interface: eth1, address: 2001:db8::1/64}]\nroutes: [{to: default, via: 2001:db8::fe}]\nipv6-forwarding: true\n"), "router")
        expectSameText(try resolve("role: realserver\nmode: tun\nvips: [192.0.2.10, 2001:db8::10]\ntun: {mss: 536}\n"), "realserver tun")
        expectSameText(try resolve("role: realserver\nmode: nat\ngateway: 192.0.2.1\npersist: ifcfg\ninit: sysv\n"), "realserver nat")
    }
}

enum SpecYAMLAsStrings {
    /// What stands for the VRRP password when the reader may not see it.
    
    static func text(_ spec: NodeSpec, maskingSecrets: Bool) -> String {
        // Role and mode are identifiers (letters, digits, - and _): plain scalars.
        var out: [String] = ["role: \(spec.role)", "mode: \(spec.mode)"]
        if !spec.vips.isEmpty { out.append("vips: [\(spec.vips.map { SpecYAML.quoted($0.description) }.joined(separator: ", "))]") }
        if let gateway = spec.gateway { out.append("gateway: \(SpecYAML.quoted(gateway.description))") }
        if let mss = spec.tunnelMSS { out.append("tun: {mss: \(mss)}") }
        if !spec.addresses.isEmpty {
            out.append("addresses:")
            out += spec.addresses.map { "  - {interface: \(SpecYAML.quoted($0.interface)), address: \(SpecYAML.quoted($0.cidr))}" }
        }
        if !spec.routes.isEmpty {
            out.append("routes:")
            out += spec.routes.map { "  - {to: \(SpecYAML.quoted($0.destination)), via: \(SpecYAML.quoted($0.via.description))}" }
        }
        if spec.ipv6Forwarding { out.append("ipv6-forwarding: true") }
        if let interface = spec.interface { out.append("interface: \(SpecYAML.quoted(interface))") }
        if let ipvs = spec.ipvs { out += lines(ipvs) }
        if let ha = spec.ha { out += lines(ha, maskingSecrets: maskingSecrets) }
        out += ["persist: \(spec.persist.rawValue)", "init: \(spec.initSystem.rawValue)"]
        return out.joined(separator: "\n") + "\n"
    }

    private static func lines(_ ipvs: IPVSSpec) -> [String] {
        var out: [String] = []
        if !ipvs.services.isEmpty { out.append("services:") }
        for service in ipvs.services { out += lines(service) }
        if let timeouts = ipvs.timeouts {
            // The reader keeps 0 for a timeout left out, and 0 cannot be written back (1 and up).
            let given = [("tcp", timeouts.tcp), ("tcpfin", timeouts.tcpFin), ("udp", timeouts.udp)].filter { $0.1 > 0 }
            out.append("timeouts: {\(given.map { "\($0.0): \($0.1)" }.joined(separator: ", "))}")
        }
        if ipvs.ownsTable { out.append("owns-table: true") }
        if ipvs.drainSeconds > 0 { out.append("drain: \(ipvs.drainSeconds)") }
        if ipvs.kernel != KernelSettings() {
            out.append("kernel:")
            if let bits = ipvs.kernel.connTabBits { out.append("  conn-tab-bits: \(bits)") }
            if !ipvs.kernel.sysctls.isEmpty {
                out.append("  sysctls:")
                out += ipvs.kernel.sysctls.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }
            }
        }
        return out
    }

    private static func lines(_ service: VirtualService) -> [String] {
        var out: [String] = []
        switch service.match {
        case .address(let proto, let vip, let port):
            out += ["  - protocol: \(proto.rawValue)", "    vip: \(SpecYAML.quoted(vip.description))", "    port: \(port)"]
        case .firewallMark(let mark, let rule):
            out.append("  - fwmark: \(mark)")
            if let rule {
                out += ["    protocol: \(rule.proto.rawValue)", "    vip: \(SpecYAML.quoted(rule.vip.description))",
                        "    ports: [\(rule.ports.map(String.init).joined(separator: ", "))]"]
            }
        }
        out.append("    scheduler: \(SpecYAML.quoted(service.scheduler))")
        if !service.flags.isEmpty { out.append("    flags: [\(service.flags.map(SpecYAML.quoted).joined(separator: ", "))]") }
        if let persistence = service.persistence { out.append("    persistence: \(persistence)") }
        if let netmask = service.netmask { out.append("    netmask: \(SpecYAML.quoted(netmask))") }
        if let check = service.check { out.append("    check: \(flow(check))") }
        out += lines(service.health)
        if !service.realServers.isEmpty { out.append("    real-servers:") }
        for server in service.realServers {
            // One String appended in place per real server, not a list of fields joined: a director's
            // table has tens of thousands, and this text goes into every generation.
            var line = "      - {address: "
            line += SpecYAML.quoted(server.address.description)
            line += ", port: "
            line += String(server.port)
            line += ", forward: "
            line += server.forwarding.rawValue
            line += ", weight: "
            line += String(server.weight)
            if server.upperThreshold > 0 { line += ", upper-threshold: "; line += String(server.upperThreshold) }
            if server.lowerThreshold > 0 { line += ", lower-threshold: "; line += String(server.lowerThreshold) }
            if let check = server.check { line += ", check: "; line += flow(check) }
            line += "}"
            out.append(line)
        }
        return out
    }

    private static func lines(_ health: HealthPolicy) -> [String] {
        var out = ["    alpha: \(health.alpha)", "    inhibit-on-failure: \(health.inhibitOnFailure)"]
        if let sorry = health.sorryServer {
            out += ["    quorum: \(health.quorum)", "    hysteresis: \(health.hysteresis)",
                    "    sorry-server: {address: \(SpecYAML.quoted(sorry.address.description)), port: \(sorry.port), forward: \(sorry.forwarding.rawValue)}"]
        }
        return out
    }

    private static func flow(_ check: HealthCheck) -> String {
        let timing: HealthCheck.Timing
        var fields: [String]
        switch check {
        case .tcp(let given):
            timing = given
            fields = ["type: tcp"]
        case .http(let path, let status, let given):
            timing = given
            fields = ["type: http", "path: \(SpecYAML.quoted(path))", "status: \(status)"]
        }
        fields += ["connect-timeout: \(timing.connectTimeout)", "retry: \(timing.retry)",
                   "delay-before-retry: \(timing.delayBeforeRetry)", "delay-loop: \(timing.delayLoop)"]
        return "{\(fields.joined(separator: ", "))}"
    }

    private static func lines(_ ha: HASpec, maskingSecrets: Bool) -> [String] {
        var out = ["ha:", "  state: \(ha.state.rawValue)", "  priority: \(ha.priority)", "  interface: \(SpecYAML.quoted(ha.interface))",
                   "  virtual-router-id: \(ha.virtualRouterID)", "  advert-int: \(ha.advertInterval)"]
        if let password = ha.password { out.append("  password: \(SpecYAML.quoted(maskingSecrets ? SpecYAML.maskedSecret : password))") }
        if let source = ha.unicastSource { out.append("  unicast-source: \(SpecYAML.quoted(source.description))") }
        if !ha.unicastPeers.isEmpty {
            out.append("  unicast-peers: [\(ha.unicastPeers.map { SpecYAML.quoted($0.description) }.joined(separator: ", "))]")
        }
        if let sync = ha.syncDaemon { out += ["  sync-daemon: true", "  sync-id: \(sync.id)"] }
        let notification = ha.notification
        if !notification.emails.isEmpty {
            out.append("  notification-email: [\(notification.emails.map(SpecYAML.quoted).joined(separator: ", "))]")
        }
        if let from = notification.emailFrom { out.append("  notification-email-from: \(SpecYAML.quoted(from))") }
        if let server = notification.smtpServer {
            out += ["  smtp-server: \(SpecYAML.quoted(server))", "  smtp-connect-timeout: \(notification.smtpConnectTimeout)"]
        }
        for (key, script) in [("notify-master", notification.notifyMaster), ("notify-backup", notification.notifyBackup),
                              ("notify-fault", notification.notifyFault)] {
            if let script { out.append("  \(key): \(SpecYAML.quoted(script))") }
        }
        if notification.hasScripts { out.append("  script-user: \(SpecYAML.quoted(notification.scriptUser))") }
        return out
    }
}
