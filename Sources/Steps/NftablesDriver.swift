import Engine
import HostAccess
import NodeModel
import Render

/// nftables tables lvs-node owns whole. Subject: `FAMILY NAME` (`inet lvs_node_mss`); state: the table
/// exactly as `nft list table` prints it, which is how the templates are written, so what the kernel
/// holds compares with what the spec wants as text. Applied and removed as one transaction.
public final class NftablesDriver: Driver {
    public static let kindName = "nftables"
    public var kind: String { Self.kindName }
    private let filter: PacketFilter

    public init(_ filter: PacketFilter) { self.filter = filter }

    public func read(_ subjects: [String]) throws -> [String?] {
        try subjects.map { subject in
            let (family, name) = Self.table(subject)
            return try filter.table(family: family, name: name)
        }
    }

    public func write(_ changes: [Change]) throws {
        try forEachChange(changes) { change in
            let (family, name) = Self.table(change.subject)
            if let after = change.after {
                try filter.replace(family: family, name: name, with: after)
            } else {
                try filter.delete(family: family, name: name)
            }
        }
    }

    public func describe(_ change: Change) -> String { "nftables table \(change.subject)" }

    public func details(_ change: Change) -> [String] {
        UnifiedDiff.lines(from: change.before ?? "", to: change.after ?? "", oldName: "kernel", newName: "spec")
    }

    static func table(_ subject: String) -> (String, String) {
        let parts = subject.split(separator: " ", maxSplits: 1).map(String.init)
        return (parts.first ?? "inet", parts.count > 1 ? parts[1] : "")
    }
}

/// Role step `kind: tcp-mss`: with `tun.mss` set, an nftables table that clamps the MSS in the
/// SYN-ACKs the real server sends from its VIPs, so clients send segments that still fit once the
/// director has wrapped them in IPIP. Without it the step wants nothing (and a table an earlier
/// generation made is removed).
enum TcpMssStep {
    static let kind = "tcp-mss"

    static func desired(_ step: Role.Step, spec: NodeSpec, host: HostView, values: [String: Any],
                        renderer: TemplateRenderer) throws -> DesiredStep {
        let table = try step.requiredSetting("table").string("table")
        guard let mss = spec.tunnelMSS else { return DesiredStep(name: step.name, kind: NftablesDriver.kindName, desired: []) }
        guard host.packetFilter.isAvailable else {
            throw MissingKernelFeature(feature: "nft (the nftables package)", needed: "tun.mss (step '\(step.name)')")
        }
        // nft prints one element bare and several as a sorted set.
        func match(_ addresses: [IPAddress]) -> [String: Any]? {
            guard !addresses.isEmpty else { return nil }
            let text = addresses.sorted().map(\.description)
            return ["match": text.count == 1 ? text[0] : "{ " + text.joined(separator: ", ") + " }", "mss": mss]
        }
        var context = values
        context["ipv4"] = match(spec.vips.filter { $0.family == .v4 })
        context["ipv6"] = match(spec.vips.filter { $0.family == .v6 })
        let template = try step.requiredSetting("template").string("template")
        let ruleset = try renderer.render(template, context)
        return DesiredStep(name: step.name, kind: NftablesDriver.kindName, desired: [Desired(subject: "inet \(table)", state: ruleset)])
    }
}
