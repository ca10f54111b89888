internal import CNetlink
import Glibc

/// `LinkControl` over rtnetlink with libnl-route-3.
public final class NetlinkLinks: LinkControl {
    private let socket: RouteSocket

    public init() throws { socket = try RouteSocket() }

    public func links() throws -> [LinkInfo] {
        try LinkTable.dump(socket).withObjects { links in
            links.compactMap { link in
                guard let name = rtnl_link_get_name(link) else { return nil }
                return LinkInfo(name: String(cString: name), kind: rtnl_link_get_type(link).map { String(cString: $0) },
                                isUp: rtnl_link_get_flags(link) & UInt32(IFF_UP.rawValue) != 0)
            }
        }
    }

    public func supportsIPIP() -> Bool { KernelFeatures.hasIPIP() }

    public func createIPIP(_ name: String) throws {
        guard let link = rtnl_link_ipip_alloc() else { throw HostError(operation: "creating", subject: "IPIP device \(name)", errno: ENOMEM) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        let rc = rtnl_link_add(socket.handle, link, NLM_F_CREATE | NLM_F_EXCL)
        if rc < 0 { throw RouteSocket.error(rc, "creating", "IPIP device \(name)") }
    }

    public func setUp(_ name: String, _ up: Bool) throws {
        let subject = "link \(name) \(up ? "up" : "down")"
        try withLink(name, operation: "setting", subject: subject) { current in
            guard let change = rtnl_link_alloc() else { throw HostError(operation: "setting", subject: subject, errno: ENOMEM) }
            defer { rtnl_link_put(change) }
            if up { rtnl_link_set_flags(change, UInt32(IFF_UP.rawValue)) } else { rtnl_link_unset_flags(change, UInt32(IFF_UP.rawValue)) }
            let rc = rtnl_link_change(socket.handle, current, change, 0)
            if rc < 0 { throw RouteSocket.error(rc, "setting", subject) }
        }
    }

    public func delete(_ name: String) throws {
        guard try links().contains(where: { $0.name == name }) else { return }
        try withLink(name, operation: "deleting", subject: "link \(name)") { current in
            let rc = rtnl_link_delete(socket.handle, current)
            if rc < 0 { throw RouteSocket.error(rc, "deleting", "link \(name)") }
        }
    }

    /// Calls `body` with the kernel's link object while the dump that owns it is alive.
    private func withLink(_ name: String, operation: String, subject: String, _ body: (OpaquePointer) throws -> Void) throws {
        try LinkTable.dump(socket).withObjects { links in
            guard let link = links.first(where: { rtnl_link_get_name($0).map { String(cString: $0) } == name }) else {
                throw HostError(operation: operation, subject: subject, errno: ENODEV)
            }
            try body(link)
        }
    }
}

/// One dump of the links, for name ↔ index lookups.
enum LinkTable {
    static func dump(_ socket: RouteSocket) throws -> NetlinkCache {
        var raw: OpaquePointer?
        let rc = rtnl_link_alloc_cache(socket.handle, AF_UNSPEC, &raw)
        guard rc >= 0, let raw else { throw RouteSocket.error(rc, "listing", "network interfaces") }
        return NetlinkCache(raw)
    }

    static func names(_ socket: RouteSocket) throws -> [Int32: String] {
        try dump(socket).withObjects { links in
            var result: [Int32: String] = [:]
            for link in links {
                if let name = rtnl_link_get_name(link) { result[rtnl_link_get_ifindex(link)] = String(cString: name) }
            }
            return result
        }
    }
}
