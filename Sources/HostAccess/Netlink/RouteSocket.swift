internal import CNetlink
import Glibc

/// An rtnetlink socket. Owns the libnl `nl_sock` and frees it with the object.
/// Netlink calls are synchronous: namespace membership belongs to the thread.
final class RouteSocket {
    let handle: OpaquePointer

    init() throws {
        guard let sock = nl_socket_alloc() else {
            throw HostError(operation: "allocating", subject: "a netlink socket", errno: ENOMEM)
        }
        let rc = nl_connect(sock, NETLINK_ROUTE)
        if rc < 0 {
            nl_socket_free(sock)
            throw RouteSocket.error(rc, "connecting", "the rtnetlink socket")
        }
        handle = sock
    }

    deinit { nl_socket_free(handle) }

    /// Turns a negative libnl return code into a HostError naming the operation and the object.
    static func error(_ code: Int32, _ operation: String, _ subject: String) -> HostError {
        HostError(operation: operation, subject: subject, netlinkCode: -abs(code),
                  detail: String(cString: nl_geterror(code)))
    }
}

/// Owns one libnl cache and frees it with the object.
final class NetlinkCache {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { nl_cache_free(handle) }

    /// The cached objects, in kernel order. They stay valid while the cache lives.
    var objects: [OpaquePointer] {
        var result: [OpaquePointer] = []
        var object = nl_cache_get_first(handle)
        while let current = object {
            result.append(current)
            object = nl_cache_get_next(current)
        }
        return result
    }
}
