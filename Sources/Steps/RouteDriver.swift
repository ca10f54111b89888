import Engine
import HostAccess
import NodeModel

/// Routes of the main table. Subject: the destination (`default`, `default6`, `198.51.100.0/24`);
/// state: every route to it, `via GATEWAY dev DEVICE [metric N] [proto P]` (no proto: static, what
/// lvs-node adds), joined by `; ` in a stable order.
/// Setting a destination's routes removes the others, so a new default route replaces the old one
/// and rollback puts the old one back.
public final class RouteDriver: Driver {
    public static let kindName = "route"
    public var kind: String { Self.kindName }
    private let control: RouteControl

    public init(_ control: RouteControl) { self.control = control }

    public func read(_ subjects: [String]) throws -> [String?] {
        try subjects.map { subject in
            let (destination, ipv6) = Self.destination(subject)
            let routes = try control.routes(to: destination, ipv6: ipv6)
            return routes.isEmpty ? nil : Self.state(routes)
        }
    }

    public func write(_ changes: [Change]) throws {
        try forEachChange(changes) { change in
            let (destination, _) = Self.destination(change.subject)
            let before = Set(try Self.routes(change.before, destination: destination))
            let after = try Self.routes(change.after, destination: destination)
            // Remove first: a new route with the old one's metric would be refused as existing.
            for route in before where !after.contains(route) { try control.delete(route) }
            for route in after where !before.contains(route) { try control.add(route) }
        }
    }

    public func describe(_ change: Change) -> String {
        let name = Self.destination(change.subject).0
        switch (change.before, change.after) {
        case let (before?, after?): return "route \(name) \(before) → \(after)"
        case let (nil, after?): return "route \(name) \(after)"
        case let (before?, nil): return "route \(name) \(before)"
        case (nil, nil): return "route \(name)"
        }
    }

    /// `default6` is IPv6's default route; anything with a colon is IPv6.
    static func destination(_ subject: String) -> (String, Bool) {
        subject == "default6" ? ("default", true) : (subject, subject.contains(":"))
    }

    static func state(_ routes: [RouteEntry]) -> String {
        routes.map { route in
            var text = ""
            if let gateway = route.gateway { text += "via \(gateway) " }
            text += "dev \(route.device ?? "?")"
            if route.metric != 0 { text += " metric \(route.metric)" }
            if route.origin != RouteEntry.staticOrigin { text += " proto \(originNames[route.origin] ?? String(route.origin))" }
            return text
        }.sorted().joined(separator: "; ")
    }

    /// iproute2's names for the protocols a default or static route commonly has (rt_protos).
    static let originNames = [2: "kernel", 3: "boot", 4: "static", 9: "ra", 16: "dhcp"]

    static func routes(_ state: String?, destination: String) throws -> [RouteEntry] {
        guard let state else { return [] }
        return try state.split(separator: ";").map { part in
            let words = part.split(separator: " ").map(String.init)
            var route = RouteEntry(destination: destination, gateway: nil, device: nil)
            var index = 0
            while index + 1 < words.count {
                switch words[index] {
                case "via": route.gateway = words[index + 1]
                case "dev": route.device = words[index + 1]
                case "metric": route.metric = Int(words[index + 1]) ?? 0
                case "proto":
                    let name = words[index + 1]
                    guard let origin = originNames.first(where: { $0.value == name })?.key ?? Int(name), (0...255).contains(origin) else {
                        throw HostError(operation: "reading the state", subject: "route \(destination) '\(part)'", errno: 22)
                    }
                    route.origin = origin
                default: throw HostError(operation: "reading the state", subject: "route \(destination) '\(part)'", errno: 22)
                }
                index += 2
            }
            return route
        }
    }
}

/// Role steps for routes:
/// - `kind: default-route`: the default route via the spec's `gateway` (a NAT real server's DIP);
/// - `kind: static-routes`: the spec's `routes` (a router's).
/// The device is the one whose connected network holds the gateway; a gateway on no connected
/// network is refused, as the kernel would refuse it.
enum RouteStep {
    static let defaultKind = "default-route"
    static let staticKind = "static-routes"

    static func desired(_ step: Role.Step, spec: NodeSpec, host: HostView) throws -> DesiredStep {
        let wanted: [(String, IPAddress, String)]   // destination, gateway, where it was given
        if step.kind == defaultKind {
            guard let gateway = spec.gateway else {   // the model refuses this already
                throw SpecError(spec.locations.missing(flag: "--gateway"), "mode \(spec.mode) needs the director's address as the default gateway; give --gateway DIP")
            }
            wanted = [("default", gateway, spec.locations.gateway ?? "--gateway")]
        } else {
            wanted = spec.routes.enumerated().map { index, route in
                (route.destination, route.via, index < spec.locations.routes.count ? spec.locations.routes[index] : "--route")
            }
        }
        // The router's own addresses come before its routes in the run, so they count as connected.
        let adding = spec.addresses
        let connected = try host.connectedNetworks(adding: adding)
        let desired = try wanted.map { destination, gateway, location -> Desired in
            guard let device = try host.interface(reaching: gateway, adding: adding) else {
                let networks = try host.gatewayNetworks(adding: adding)
                let hint = networks.isEmpty
                    ? "this host has no address on a network other than lo; add one on the gateway's network (--address DEVICE=ADDRESS/PREFIX, or addresses: in the spec)"
                    : "the connected networks are \(networks.joined(separator: ", ")); add an address on the gateway's network, or route through a gateway on one of them"
                throw SpecError(location, "the gateway \(gateway) is on no directly connected network of this host: \(hint)")
            }
            if connected.contains(destination) {
                throw SpecError(location, "\(destination) is directly connected already; a static route would shadow the interface route")
            }
            let subject = destination == "default" && gateway.family == .v6 ? "default6" : destination
            return Desired(subject: subject, state: "via \(gateway) dev \(device)")
        }
        return DesiredStep(name: step.name, kind: RouteDriver.kindName, desired: desired)
    }
}
