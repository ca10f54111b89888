/// The spec as YAML that `setup --config` reads back to an equal spec: every field the reader
/// takes, defaults included where they are part of a service (weights, forwarding, check timings),
/// so the text alone reproduces the generation. Free text and addresses are double-quoted with
/// YAML escapes, so any value the reader accepted survives.
enum SpecYAML {
    /// What stands for the VRRP password when the reader may not see it.
    static let maskedSecret = "********"

    static func text(_ spec: NodeSpec, maskingSecrets: Bool) -> String {
        // Role and mode are identifiers (letters, digits, - and _): plain scalars.
        var out: [String] = ["role: \(spec.role)", "mode: \(spec.mode)"]
        if !spec.vips.isEmpty { out.append("vips: [\(spec.vips.map { quoted($0.description) }.joined(separator: ", "))]") }
        if let gateway = spec.gateway { out.append("gateway: \(quoted(gateway.description))") }
        if let mss = spec.tunnelMSS { out.append("tun: {mss: \(mss)}") }
        if !spec.addresses.isEmpty {
            out.append("addresses:")
            out += spec.addresses.map { "  - {interface: \(quoted($0.interface)), address: \(quoted($0.cidr))}" }
        }
        if !spec.routes.isEmpty {
            out.append("routes:")
            out += spec.routes.map { "  - {to: \(quoted($0.destination)), via: \(quoted($0.via.description))}" }
        }
        if spec.ipv6Forwarding { out.append("ipv6-forwarding: true") }
        if let interface = spec.interface { out.append("interface: \(quoted(interface))") }
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
            out += ["  - protocol: \(proto.rawValue)", "    vip: \(quoted(vip.description))", "    port: \(port)"]
        case .firewallMark(let mark, let rule):
            out.append("  - fwmark: \(mark)")
            if let rule {
                out += ["    protocol: \(rule.proto.rawValue)", "    vip: \(quoted(rule.vip.description))",
                        "    ports: [\(rule.ports.map(String.init).joined(separator: ", "))]"]
            }
        }
        out.append("    scheduler: \(quoted(service.scheduler))")
        if !service.flags.isEmpty { out.append("    flags: [\(service.flags.map(quoted).joined(separator: ", "))]") }
        if let persistence = service.persistence { out.append("    persistence: \(persistence)") }
        if let netmask = service.netmask { out.append("    netmask: \(quoted(netmask))") }
        if let check = service.check { out.append("    check: \(flow(check))") }
        out += lines(service.health)
        if !service.realServers.isEmpty { out.append("    real-servers:") }
        for server in service.realServers {
            // One String appended in place per real server, not a list of fields joined: a director's
            // table has tens of thousands, and this text goes into every generation.
            var line = "      - {address: "
            line += quoted(server.address.description)
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
                    "    sorry-server: {address: \(quoted(sorry.address.description)), port: \(sorry.port), forward: \(sorry.forwarding.rawValue)}"]
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

    /// A YAML double-quoted scalar: `"` and `\` escaped, every control character and DEL as `\xNN`.
    static func quoted(_ text: String) -> String {
        // Nearly every value (an address, a name) is printable ASCII without `"` or `\`: quoted as it is,
        // without a walk over its scalars (a thousand VIPs, a thousand values).
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
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
