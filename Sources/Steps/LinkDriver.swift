import Engine
import HostAccess
import NodeModel

/// Network devices lvs-node creates or brings up. Subject: the device name; state: `KIND up` or
/// `KIND down` (`ipip up`), nil when the device does not exist.
public final class LinkDriver: Driver {
    public static let kindName = "link"
    public var kind: String { Self.kindName }
    private let control: LinkControl

    public init(_ control: LinkControl) { self.control = control }

    public func read(_ subjects: [String]) throws -> [String?] {
        let links = Dictionary(try control.links().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return subjects.map { name in
            links[name].map { "\($0.kind ?? "device") \($0.isUp ? "up" : "down")" }
        }
    }

    public func write(_ changes: [Change]) throws { try forEachChange(changes, write) }

    private func write(_ change: Change) throws {
        let name = change.subject
        guard let after = change.after else {
            try control.delete(name)
            return
        }
        let parts = after.split(separator: " ")
        guard parts.count == 2 else { throw HostError(operation: "reading the state", subject: "link \(name) '\(after)'", errno: 22) }
        if change.before == nil {
            guard parts[0] == "ipip" else {
                throw HostError(operation: "creating", subject: "link \(name): lvs-node creates only ipip devices", errno: 95)
            }
            try control.createIPIP(name)
        }
        try control.setUp(name, parts[1] == "up")
    }

    public func describe(_ change: Change) -> String {
        switch (change.before, change.after) {
        case let (before?, after?): return "link \(change.subject) \(before) → \(after)"
        case let (nil, after?): return "link \(change.subject) (\(after))"
        case let (before?, nil): return "link \(change.subject) (\(before))"
        case (nil, nil): return "link \(change.subject)"
        }
    }
}

/// Role step `kind: tunnel-device`: the IPIP device (`tunl0`) present and up. The kernel creates
/// tunl0 in every namespace once the ipip module is loaded; without IPIP support the step is refused
/// before anything changes.
enum TunnelDeviceStep {
    static let kind = "tunnel-device"

    static func desired(_ step: Role.Step, host: HostView) throws -> DesiredStep {
        let device = try step.requiredSetting("device").string("device")
        let present = try host.links.links().contains { $0.name == device }
        if !present && !host.links.supportsIPIP() {
            throw MissingKernelFeature(feature: "IPIP tunnel support in its kernel (CONFIG_NET_IPIP, the ipip module)",
                                       needed: "the \(device) device of step '\(step.name)'")
        }
        return DesiredStep(name: step.name, kind: LinkDriver.kindName, desired: [Desired(subject: device, state: "ipip up")])
    }
}
