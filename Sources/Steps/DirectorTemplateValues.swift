import NodeModel

/// The director's spec as template values: the VRRP instance (`ha`) and the IPVS services as
/// keepalived `virtual_server` blocks (`virtualServers`). Absent values are left out, so a
/// `{{#persistence}}` section renders only when the service has one.
enum DirectorTemplateValues {
    static func values(_ spec: NodeSpec) -> [String: Any] {
        var result: [String: Any] = [:]
        if let ha = spec.ha {
            var instance: [String: Any] = [
                "state": ha.state.rawValue, "priority": ha.priority, "interface": ha.interface,
                "virtualRouterID": ha.virtualRouterID, "advertInterval": ha.advertInterval,
                "unicastPeers": ha.unicastPeers.map(\.description),
            ]
            // VRRP carries one address family: the first VIP's. The others go in
            // virtual_ipaddress_excluded, which keepalived adds and removes with the instance.
            let family = spec.vips.first?.family
            var labelled = 0
            let vips = spec.vips.map { vip -> [String: Any] in
                var entry: [String: Any] = ["cidr": "\(vip)/\(vip.hostPrefixLength)", "device": ha.interface]
                if vip.family == .v4 {
                    entry["label"] = "\(ha.interface):\(labelled)"
                    labelled += 1
                }
                return entry
            }
            instance["vips"] = zip(spec.vips, vips).filter { $0.0.family == family }.map(\.1)
            let excluded = zip(spec.vips, vips).filter { $0.0.family != family }.map(\.1)
            if !excluded.isEmpty { instance["excluded"] = ["vips": excluded] }
            instance["password"] = ha.password
            instance["unicastSource"] = ha.unicastSource?.description
            instance.merge(behaviour(ha)) { $1 }
            result["ha"] = instance
        }
        result["virtualServers"] = (spec.ipvs?.services ?? []).map(virtualServer)
        return result
    }

    /// The sync daemon, mail and notify scripts: each a section that renders only when the spec has it.
    private static func behaviour(_ ha: HASpec) -> [String: Any] {
        var result: [String: Any] = [:]
        if let sync = ha.syncDaemon {
            result["sync"] = ["interface": ha.interface, "instance": "VI_\(ha.virtualRouterID)", "id": sync.id]
        }
        let notification = ha.notification
        if let server = notification.smtpServer, !notification.emails.isEmpty {
            var mail: [String: Any] = ["emails": notification.emails, "server": server,
                                       "connectTimeout": notification.smtpConnectTimeout]
            mail["from"] = notification.emailFrom
            result["mail"] = mail
        }
        if notification.hasScripts {
            var scripts: [String: Any] = ["user": notification.scriptUser]
            scripts["master"] = notification.notifyMaster
            scripts["backup"] = notification.notifyBackup
            scripts["fault"] = notification.notifyFault
            result["scripts"] = scripts
        }
        return result
    }

    /// alpha, inhibit_on_failure and the quorum with its sorry server; absent when off.
    private static func healthPolicy(_ health: HealthPolicy) -> [String: Any] {
        var result: [String: Any] = [:]
        if health.alpha { result["alpha"] = true }
        if health.inhibitOnFailure { result["inhibitOnFailure"] = true }
        if let sorry = health.sorryServer {
            result["sorry"] = ["quorum": health.quorum, "hysteresis": health.hysteresis, "address": sorry.address.description,
                               "port": sorry.port, "method": sorry.forwarding.rawValue.uppercased()]
        }
        return result
    }

    private static func virtualServer(_ service: VirtualService) -> [String: Any] {
        var entry: [String: Any] = ["scheduler": service.scheduler, "flags": service.flags]
        switch service.match {
        case .address(let proto, let vip, let port):
            entry["header"] = "\(vip) \(port)"
            entry["protocol"] = proto.rawValue.uppercased()
        case .firewallMark(let mark, _):
            // keepalived ignores (and warns about) a protocol on a mark service.
            entry["header"] = "fwmark \(mark)"
        }
        entry["persistence"] = service.persistence
        entry["netmask"] = service.netmask
        entry.merge(healthPolicy(service.health)) { $1 }
        entry["realServers"] = service.realServers.map { server -> [String: Any] in
            var fields: [String: Any] = ["address": server.address.description, "port": server.port, "weight": server.weight,
                                         "method": server.forwarding.rawValue.uppercased()]
            if server.upperThreshold > 0 { fields["upperThreshold"] = server.upperThreshold }
            if server.lowerThreshold > 0 { fields["lowerThreshold"] = server.lowerThreshold }
            switch server.check ?? service.check {
            case .tcp(let timing)?: fields["tcpCheck"] = timingFields(timing)
            case .http(let path, let status, let timing)?:
                fields["httpCheck"] = timingFields(timing).merging(["path": path, "status": status]) { $1 }
            case nil: break
            }
            return fields
        }
        return entry
    }

    private static func timingFields(_ timing: HealthCheck.Timing) -> [String: Any] {
        ["connectTimeout": timing.connectTimeout, "retry": timing.retry, "delayBeforeRetry": timing.delayBeforeRetry,
         "delayLoop": timing.delayLoop]
    }
}
