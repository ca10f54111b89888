import Engine
import HostAccess
import NodeModel
import Render

/// Role step `kind: firewall-marks`: the packets each firewall-mark service gathers (to its VIP, with
/// its protocol, on its ports) get the service's mark, in an nftables table lvs-node owns whole and
/// replaces in one transaction. With no such service the step wants nothing (an earlier table goes).
enum FirewallMarkStep {
    static let kind = "firewall-marks"

    static func desired(_ step: Role.Step, spec: NodeSpec, host: HostView, values: [String: Any],
                        renderer: TemplateRenderer) throws -> DesiredStep {
        let table = try step.requiredSetting("table").string("table")
        var rules: [[String: Any]] = []
        for service in spec.ipvs?.services ?? [] {
            guard case .firewallMark(let mark, let rule?) = service.match else { continue }
            // As `nft list` prints them: one port bare, several as a sorted set; the mark in hex.
            let ports = rule.ports.sorted().map(String.init)
            let hex = String(mark, radix: 16)
            rules.append(["family": rule.vip.family == .v4 ? "ip" : "ip6", "vip": rule.vip.description, "protocol": rule.proto.rawValue,
                          "ports": ports.count == 1 ? ports[0] : "{ " + ports.joined(separator: ", ") + " }",
                          "mark": "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex])
        }
        guard !rules.isEmpty else { return DesiredStep(name: step.name, kind: NftablesDriver.kindName, desired: []) }
        guard host.packetFilter.isAvailable else {
            throw MissingKernelFeature(feature: "nft (the nftables package)", needed: "the firewall-mark services (step '\(step.name)')")
        }
        var context = values
        context["table"] = table
        context["rules"] = rules
        let ruleset = try renderer.render(try step.requiredSetting("template").string("template"), context)
        return DesiredStep(name: step.name, kind: NftablesDriver.kindName, desired: [Desired(subject: "inet \(table)", state: ruleset)])
    }
}
