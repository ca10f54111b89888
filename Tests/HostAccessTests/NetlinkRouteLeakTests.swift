import Glibc
import HostAccess
import Testing

/// A route request refused before it is sent (an address that does not parse) frees everything it
/// allocated: the route and its nexthop. Measured as the resident memory across many refusals, so a
/// leak of one small object per call shows as megabytes.
@Suite struct NetlinkRouteLeakTests {
    /// Resident bytes (/proc/self/statm, second field, in pages).
    static func heapInUse() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = read(fd, &buffer, buffer.count)
        let fields = String(decoding: buffer[0..<max(count, 0)], as: UTF8.self).split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The smallest growth of the heap over `rounds` rounds of `body` run `count` times: other tests
    /// running meanwhile may touch new memory in one round, a leak grows every round.
    static func smallestGrowth(rounds: Int = 3, count: Int, _ body: () -> Void) -> Int {
        for _ in 0..<1000 { body() }
        return (0..<rounds).map { _ in
            let before = heapInUse()
            for _ in 0..<count { body() }
            return heapInUse() - before
        }.min()!
    }

    @Test(arguments: [
        RouteEntry(destination: "not-a-network", gateway: nil, device: nil),
        RouteEntry(destination: "198.51.100.0/24", gateway: "not-a-gateway", device: nil),
    ])
    func aRefusedRouteLeaksNothing(_ route: RouteEntry) throws {
        let routes = try NetlinkRoutes()
        var refused = 0
        let growth = Self.smallestGrowth(count: 50_000) {
            do { try routes.add(route) } catch { refused += 1 }
        }
        #expect(refused == 1000 + 3 * 50_000)
        #expect(growth < 1 << 20, "resident memory grew by \(growth) bytes over 50000 refused routes")
    }
}
