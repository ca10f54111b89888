/// The spec as YAML that `setup --config` reads back to an equal spec: every field the reader
/// takes, defaults included where they are part of a service (weights, forwarding, check timings),
/// so the text alone reproduces the generation. Free text and addresses are double-quoted with
/// YAML escapes, so any value the reader accepted survives.
enum SpecYAML {
    /// What stands for the VRRP password when the reader may not see it.
    static let maskedSecret = "********"

    static func text(_ spec: NodeSpec, maskingSecrets: Bool) -> String {
        String(decoding: bytes(spec, maskingSecrets: maskingSecrets), as: UTF8.self)
    }

    /// The same text as bytes, written in place: a director's table is tens of thousands of lines.
    static func bytes(_ spec: NodeSpec, maskingSecrets: Bool) -> [UInt8] {
        let servers = spec.ipvs?.services.reduce(0) { $0 + $1.realServers.count } ?? 0
        var out = YAMLTextWriter(capacity: 1024 + 80 * servers + 160 * (spec.ipvs?.services.count ?? 0) + 64 * spec.vips.count)
        // Role and mode are identifiers (letters, digits, - and _): plain scalars.
        out.line("role: \(spec.role)")
        out.line("mode: \(spec.mode)")
        if !spec.vips.isEmpty {
            out.write("vips: [")
            for (index, vip) in spec.vips.enumerated() {
                if index > 0 { out.write(", ") }
                out.quoted(vip)
            }
            out.write("]")
            out.newline()
        }
        if let gateway = spec.gateway { out.line("gateway: \(quoted(gateway.description))") }
        if let mss = spec.tunnelMSS { out.line("tun: {mss: \(mss)}") }
        if !spec.addresses.isEmpty {
            out.line("addresses:")
            for address in spec.addresses { out.line("  - {interface: \(quoted(address.interface)), address: \(quoted(address.cidr))}") }
        }
        if !spec.routes.isEmpty {
            out.line("routes:")
            for route in spec.routes { out.line("  - {to: \(quoted(route.destination)), via: \(quoted(route.via.description))}") }
        }
        if spec.ipv6Forwarding { out.line("ipv6-forwarding: true") }
        if let interface = spec.interface { out.line("interface: \(quoted(interface))") }
        if let ipvs = spec.ipvs { write(ipvs, into: &out) }
        if let ha = spec.ha { for line in lines(ha, maskingSecrets: maskingSecrets) { out.line(line) } }
        out.line("persist: \(spec.persist.rawValue)")
        out.line("init: \(spec.initSystem.rawValue)")
        return out.bytes
    }

    private static func write(_ ipvs: IPVSSpec, into out: inout YAMLTextWriter) {
        if !ipvs.services.isEmpty { out.line("services:") }
        for service in ipvs.services { write(service, into: &out) }
        if let timeouts = ipvs.timeouts {
            // The reader keeps 0 for a timeout left out, and 0 cannot be written back (1 and up).
            let given = [("tcp", timeouts.tcp), ("tcpfin", timeouts.tcpFin), ("udp", timeouts.udp)].filter { $0.1 > 0 }
            out.line("timeouts: {\(given.map { "\($0.0): \($0.1)" }.joined(separator: ", "))}")
        }
        if ipvs.ownsTable { out.line("owns-table: true") }
        if ipvs.drainSeconds > 0 { out.line("drain: \(ipvs.drainSeconds)") }
        if ipvs.kernel != KernelSettings() {
            out.line("kernel:")
            if let bits = ipvs.kernel.connTabBits { out.line("  conn-tab-bits: \(bits)") }
            if !ipvs.kernel.sysctls.isEmpty {
                out.line("  sysctls:")
                for (key, value) in ipvs.kernel.sysctls.sorted(by: { $0.key < $1.key }) { out.line("    \(key): \(value)") }
            }
        }
    }

    private static func write(_ service: VirtualService, into out: inout YAMLTextWriter) {
        switch service.match {
        case .address(let proto, let vip, let port):
            out.write("  - protocol: "); out.write(proto.rawValue); out.newline()
            out.write("    vip: "); out.quoted(vip); out.newline()
            out.write("    port: "); out.write(port); out.newline()
        case .firewallMark(let mark, let rule):
            out.write("  - fwmark: "); out.write(mark); out.newline()
            if let rule {
                out.line("    protocol: \(rule.proto.rawValue)")
                out.line("    vip: \(quoted(rule.vip.description))")
                out.line("    ports: [\(rule.ports.map(String.init).joined(separator: ", "))]")
            }
        }
        out.write("    scheduler: "); out.quoted(service.scheduler); out.newline()
        if !service.flags.isEmpty { out.line("    flags: [\(service.flags.map(quoted).joined(separator: ", "))]") }
        if let persistence = service.persistence { out.line("    persistence: \(persistence)") }
        if let netmask = service.netmask { out.line("    netmask: \(quoted(netmask))") }
        if let check = service.check { out.line("    check: \(flow(check))") }
        write(service.health, into: &out)
        if !service.realServers.isEmpty { out.line("    real-servers:") }
        for server in service.realServers {
            // Written in place, field by field: a director's table has tens of thousands of real
            // servers, and this text goes into every generation.
            out.write("      - {address: "); out.quoted(server.address)
            out.write(", port: "); out.write(server.port)
            out.write(", forward: "); out.write(server.forwarding.rawValue)
            out.write(", weight: "); out.write(server.weight)
            if server.upperThreshold > 0 { out.write(", upper-threshold: "); out.write(server.upperThreshold) }
            if server.lowerThreshold > 0 { out.write(", lower-threshold: "); out.write(server.lowerThreshold) }
            if let check = server.check { out.write(", check: "); out.write(flow(check)) }
            out.write("}")
            out.newline()
        }
    }

    private static func write(_ health: HealthPolicy, into out: inout YAMLTextWriter) {
        out.write("    alpha: "); out.write(health.alpha ? "true" : "false"); out.newline()
        out.write("    inhibit-on-failure: "); out.write(health.inhibitOnFailure ? "true" : "false"); out.newline()
        if let sorry = health.sorryServer {
            out.line("    quorum: \(health.quorum)")
            out.line("    hysteresis: \(health.hysteresis)")
            out.line("    sorry-server: {address: \(quoted(sorry.address.description)), port: \(sorry.port), forward: \(sorry.forwarding.rawValue)}")
        }
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
            fields = ["type: http", "path: \(quoted(path))", "status: \(status)"]
        }
        fields += ["connect-timeout: \(timing.connectTimeout)", "retry: \(timing.retry)",
                   "delay-before-retry: \(timing.delayBeforeRetry)", "delay-loop: \(timing.delayLoop)"]
        return "{\(fields.joined(separator: ", "))}"
    }

    private static func lines(_ ha: HASpec, maskingSecrets: Bool) -> [String] {
        var out = ["ha:", "  state: \(ha.state.rawValue)", "  priority: \(ha.priority)", "  interface: \(quoted(ha.interface))",
                   "  virtual-router-id: \(ha.virtualRouterID)", "  advert-int: \(ha.advertInterval)"]
        if let password = ha.password { out.append("  password: \(quoted(maskingSecrets ? maskedSecret : password))") }
        if let source = ha.unicastSource { out.append("  unicast-source: \(quoted(source.description))") }
        if !ha.unicastPeers.isEmpty {
            out.append("  unicast-peers: [\(ha.unicastPeers.map { quoted($0.description) }.joined(separator: ", "))]")
        }
        if let sync = ha.syncDaemon { out += ["  sync-daemon: true", "  sync-id: \(sync.id)"] }
        let notification = ha.notification
        if !notification.emails.isEmpty {
            out.append("  notification-email: [\(notification.emails.map(quoted).joined(separator: ", "))]")
        }
        if let from = notification.emailFrom { out.append("  notification-email-from: \(quoted(from))") }
        if let server = notification.smtpServer {
            out += ["  smtp-server: \(quoted(server))", "  smtp-connect-timeout: \(notification.smtpConnectTimeout)"]
        }
        for (key, script) in [("notify-master", notification.notifyMaster), ("notify-backup", notification.notifyBackup),
                              ("notify-fault", notification.notifyFault)] {
            if let script { out.append("  \(key): \(quoted(script))") }
        }
        if notification.hasScripts { out.append("  script-user: \(quoted(notification.scriptUser))") }
        return out
    }

    /// Printable ASCII without `"` or `\\`: quoted as it is.
    static func isPlainPrintable(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// A YAML double-quoted scalar: `"` and `\` escaped, every control character and DEL as `\xNN`.
    static func quoted(_ text: String) -> String {
        // Nearly every value (an address, a name) is printable ASCII without `"` or `\`: quoted as it is,
        // without a walk over its scalars (a thousand VIPs, a thousand values).
        if isPlainPrintable(text) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value):
                let digits = String(scalar.value, radix: 16, uppercase: true)
                out += "\\x" + (digits.count < 2 ? "0" : "") + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension NodeSpec {
    /// The spec as the YAML a user could feed back with `--config` (`show` prints it; each generation
    /// keeps it): read back, it gives an equal spec.
    public var yaml: String { SpecYAML.text(self, maskingSecrets: false) }

    /// The same with the VRRP password replaced by `********`, for readers that may not see it.
    public var maskedYAML: String { SpecYAML.text(self, maskingSecrets: true) }

    public static let maskedSecret = SpecYAML.maskedSecret
}
