internal import CNetlink
import Glibc

/// `AddressControl` over rtnetlink with libnl-route-3: one dump to read, one request per change.
public final class NetlinkAddresses: AddressControl {
    private let socket: RouteSocket
    private var linkCache: NetlinkCache?

    public init() throws {
        socket = try RouteSocket()
    }

    public func interfaceNames() throws -> Set<String> {
        Set(try links().objects.compactMap { link in
            rtnl_link_get_name(link).map { String(cString: $0) }
        })
    }

    public func addresses() throws -> [InterfaceAddress] {
        var raw: OpaquePointer?
        let rc = rtnl_addr_alloc_cache(socket.handle, &raw)
        guard rc >= 0, let raw else { throw RouteSocket.error(rc, "listing", "interface addresses") }
        let cache = NetlinkCache(raw)
        let names = try indexToName()
        return cache.objects.compactMap { addr in
            guard let local = rtnl_addr_get_local(addr), let text = Self.text(of: local) else { return nil }
            let index = rtnl_addr_get_ifindex(addr)
            return InterfaceAddress(
                interface: names[index] ?? "if\(index)",
                address: text,
                prefixLength: Int(rtnl_addr_get_prefixlen(addr)),
                label: rtnl_addr_get_label(addr).map { String(cString: $0) })
        }
    }

    public func add(_ address: InterfaceAddress) throws {
        let request = try makeRequest(address, operation: "adding")
        defer { rtnl_addr_put(request) }
        let rc = rtnl_addr_add(socket.handle, request, 0)
        if rc < 0 { throw RouteSocket.error(rc, "adding", "\(address.cidr) to \(address.interface)") }
    }

    public func remove(_ address: InterfaceAddress) throws {
        let request = try makeRequest(address, operation: "removing")
        defer { rtnl_addr_put(request) }
        let rc = rtnl_addr_delete(socket.handle, request, 0)
        if rc < 0 { throw RouteSocket.error(rc, "removing", "\(address.cidr) from \(address.interface)") }
    }

    private func makeRequest(_ address: InterfaceAddress, operation: String) throws -> OpaquePointer {
        let subject = "\(address.cidr) on \(address.interface)"
        guard let index = try nameToIndex()[address.interface] else {
            throw HostError(operation: operation, subject: subject, errno: ENODEV)
        }
        var local: OpaquePointer?
        let rc = nl_addr_parse(address.cidr, AF_UNSPEC, &local)
        guard rc >= 0, let local else { throw RouteSocket.error(rc, "parsing", address.cidr) }
        defer { nl_addr_put(local) }
        guard let request = rtnl_addr_alloc() else {
            throw HostError(operation: operation, subject: subject, errno: ENOMEM)
        }
        rtnl_addr_set_ifindex(request, index)
        rtnl_addr_set_family(request, nl_addr_get_family(local))
        let set = rtnl_addr_set_local(request, local)
        if set < 0 { rtnl_addr_put(request); throw RouteSocket.error(set, operation, subject) }
        rtnl_addr_set_prefixlen(request, Int32(address.prefixLength))
        if let label = address.label, !address.isIPv6 {
            let labelled = rtnl_addr_set_label(request, label)
            if labelled < 0 { rtnl_addr_put(request); throw RouteSocket.error(labelled, operation, subject) }
        }
        return request
    }

    private func links() throws -> NetlinkCache {
        if let linkCache { return linkCache }
        var raw: OpaquePointer?
        let rc = rtnl_link_alloc_cache(socket.handle, AF_UNSPEC, &raw)
        guard rc >= 0, let raw else { throw RouteSocket.error(rc, "listing", "network interfaces") }
        let cache = NetlinkCache(raw)
        linkCache = cache
        return cache
    }

    private func nameToIndex() throws -> [String: Int32] {
        Dictionary(try indexToName().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private func indexToName() throws -> [Int32: String] {
        var result: [Int32: String] = [:]
        for link in try links().objects {
            if let name = rtnl_link_get_name(link) { result[rtnl_link_get_ifindex(link)] = String(cString: name) }
        }
        return result
    }

    /// inet_ntop of the address bytes, so the text matches what the model canonicalises to.
    private static func text(of address: OpaquePointer) -> String? {
        let family = nl_addr_get_family(address)
        guard family == AF_INET || family == AF_INET6, let bytes = nl_addr_get_binary_addr(address) else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
