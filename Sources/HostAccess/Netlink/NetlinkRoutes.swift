internal import CNetlink
import Glibc

/// `RouteControl` over rtnetlink with libnl-route-3: the main table's unicast routes.
public final class NetlinkRoutes: RouteControl {
    private let socket: RouteSocket

    public init() throws { socket = try RouteSocket() }

    public func routes(to destination: String, ipv6: Bool) throws -> [RouteEntry] {
        var raw: OpaquePointer?
        let rc = rtnl_route_alloc_cache(socket.handle, ipv6 ? AF_INET6 : AF_INET, 0, &raw)
        guard rc >= 0, let raw else { throw RouteSocket.error(rc, "listing", "routes") }
        let cache = NetlinkCache(raw)  // owned before anything else can throw
        let names = try LinkTable.names(socket)
        return cache.withObjects { $0.compactMap { route -> RouteEntry? in
            guard rtnl_route_get_table(route) == RT_TABLE_MAIN.rawValue, rtnl_route_get_type(route) == RTN_UNICAST,
                  let dst = rtnl_route_get_dst(route), Self.destination(dst) == destination else { return nil }
            var gateway: String?, device: String?
            if rtnl_route_get_nnexthops(route) > 0, let hop = rtnl_route_nexthop_n(route, 0) {
                gateway = rtnl_route_nh_get_gateway(hop).flatMap(Self.text)
                device = names[rtnl_route_nh_get_ifindex(hop)]
            }
            return RouteEntry(destination: destination, gateway: gateway, device: device, metric: Int(rtnl_route_get_priority(route)),
                              origin: Int(rtnl_route_get_protocol(route)))
        } }
    }

    public func add(_ route: RouteEntry) throws {
        let request = try makeRoute(route, operation: "adding")
        defer { rtnl_route_put(request) }
        let rc = rtnl_route_add(socket.handle, request, NLM_F_EXCL)
        if rc < 0 { throw RouteSocket.error(rc, "adding", "route \(Self.describe(route))") }
    }

    public func delete(_ route: RouteEntry) throws {
        let request = try makeRoute(route, operation: "removing")
        defer { rtnl_route_put(request) }
        let rc = rtnl_route_delete(socket.handle, request, 0)
        if rc < 0 { throw RouteSocket.error(rc, "removing", "route \(Self.describe(route))") }
    }

    /// The request for `route`, owned by the caller (`rtnl_route_put`). Everything that can fail (parsing,
    /// the device lookup) happens before anything is allocated, and the nexthop belongs to the route
    /// from the moment it exists, so no error path leaks either.
    private func makeRoute(_ route: RouteEntry, operation: String) throws -> OpaquePointer {
        let subject = "route \(Self.describe(route))"
        let family = route.isIPv6 ? AF_INET6 : AF_INET
        let text = route.destination == "default" ? (route.isIPv6 ? "::/0" : "0.0.0.0/0") : route.destination
        let destination = try NetlinkAddress(text, family: family)
        let gateway = try route.gateway.map { try NetlinkAddress($0, family: family) }
        var index: Int32?
        if let device = route.device {
            guard let found = try LinkTable.names(socket).first(where: { $0.value == device })?.key else {
                throw HostError(operation: operation, subject: subject, errno: ENODEV)
            }
            index = found
        }
        // The addresses stay alive until the route holds its own references (ARC may free an object after its last use).
        return try withExtendedLifetime((destination, gateway)) {
            try build(route, operation: operation, subject: subject, family: family, destination: destination.handle,
                      gateway: gateway?.handle, index: index)
        }
    }

    private func build(_ route: RouteEntry, operation: String, subject: String, family: Int32, destination: OpaquePointer,
                       gateway: OpaquePointer?, index: Int32?) throws -> OpaquePointer {
        guard let request = rtnl_route_alloc() else { throw HostError(operation: operation, subject: subject, errno: ENOMEM) }
        guard let hop = rtnl_route_nh_alloc() else {
            rtnl_route_put(request)
            throw HostError(operation: operation, subject: subject, errno: ENOMEM)
        }
        // From here the route owns the hop: rtnl_route_put frees both.
        rtnl_route_add_nexthop(request, hop)
        _ = rtnl_route_set_family(request, UInt8(family))
        _ = rtnl_route_set_dst(request, destination)  // takes its own reference
        rtnl_route_set_table(request, RT_TABLE_MAIN.rawValue)
        if operation == "adding" {
            rtnl_route_set_protocol(request, UInt8(truncatingIfNeeded: route.origin))
            rtnl_route_set_scope(request, UInt8(route.gateway == nil ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue))
        } else {
            // Match whoever added it (boot, dhcp, static) and any scope, as `ip route del` does.
            rtnl_route_set_protocol(request, UInt8(RTPROT_UNSPEC))
            rtnl_route_set_scope(request, UInt8(RT_SCOPE_NOWHERE.rawValue))
        }
        _ = rtnl_route_set_type(request, UInt8(RTN_UNICAST))
        rtnl_route_set_priority(request, UInt32(route.metric))
        if let gateway { rtnl_route_nh_set_gateway(hop, gateway) }  // takes its own reference
        if let index { rtnl_route_nh_set_ifindex(hop, index) }
        return request
    }

    static func describe(_ route: RouteEntry) -> String {
        var text = route.destination
        if let gateway = route.gateway { text += " via \(gateway)" }
        if let device = route.device { text += " dev \(device)" }
        if route.metric != 0 { text += " metric \(route.metric)" }
        return text
    }

    /// `default` or `network/prefix`, with the network printed by inet_ntop.
    private static func destination(_ address: OpaquePointer) -> String? {
        let prefix = nl_addr_get_prefixlen(address)
        if prefix == 0 { return "default" }
        return text(address).map { "\($0)/\(prefix)" }
    }

    private static func text(_ address: OpaquePointer) -> String? {
        let family = nl_addr_get_family(address)
        guard family == AF_INET || family == AF_INET6, let bytes = nl_addr_get_binary_addr(address) else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// One parsed libnl address, released with the object (the route takes its own references).
private final class NetlinkAddress {
    let handle: OpaquePointer

    init(_ text: String, family: Int32) throws {
        var parsed: OpaquePointer?
        let rc = nl_addr_parse(text, family, &parsed)
        guard rc >= 0, let parsed else { throw RouteSocket.error(rc, "parsing", text) }
        handle = parsed
    }

    deinit { nl_addr_put(handle) }
}
