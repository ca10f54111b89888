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

    /// Calls `body` with the cached objects, in kernel order, keeping the cache alive until it
    /// returns: the objects are the cache's, and ARC may free an object right after its last use.
    func withObjects<T>(_ body: ([OpaquePointer]) throws -> T) rethrows -> T {
        try withExtendedLifetime(self) {
            var objects: [OpaquePointer] = []
            var object = nl_cache_get_first(handle)
            while let current = object {
                objects.append(current)
                object = nl_cache_get_next(current)
            }
            return try body(objects)
        }
    }
}
