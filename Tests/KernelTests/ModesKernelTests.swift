import Foundation
import Testing
import TestSupport

/// TUN, NAT and the router on the real kernel, in fresh namespaces joined by veth pairs; and a TCP
/// request from a client through an lvs-node router to an lvs-node NAT real server.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class ModesKernelTests {
    let directory = TemporaryDirectory()
    var namespaces: [NetworkNamespace] = []
    var background: [Process] = []

    deinit {
        background.forEach { if $0.isRunning { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() } }
        namespaces.forEach { $0.remove() }
        directory.remove()
    }

    func namespace() throws -> NetworkNamespace {
        let created = try NetworkNamespace()
        namespaces.append(created)
        return created
    }

    /// A veth pair with one end in each namespace.
    func link(_ a: NetworkNamespace, _ aName: String, _ b: NetworkNamespace, _ bName: String) throws {
        let result = try runProcess(which("ip")!, ["link", "add", aName, "netns", a.name, "type", "veth", "peer", "name", bName, "netns", b.name])
        #expect(result.status == 0, "\(result)")
        try a.ip(["link", "set", aName, "up"])
        try b.ip(["link", "set", bName, "up"])
    }

    @discardableResult
    func lvsNode(_ namespace: NetworkNamespace, _ arguments: [String], state: String = "state") throws -> ProcessResult {
        // Live state only: files are the persistence tests' business.
        let spec = ["setup", "plan"].contains(arguments[0]) ? ["--persist", "none", "--init", "none"] : []
        mkdir(directory.file("root-\(namespace.name)"), 0o755)
        return try namespace.run(lvsNodeBinary, arguments + spec + ["--root", directory.file("root-\(namespace.name)"),
                                                                    "--state-dir", directory.file("\(state)-\(namespace.name)")])
    }

    func defaultRoutes(_ namespace: NetworkNamespace) throws -> [String] {
        let json = try namespace.ip(["-j", "route", "show", "default"])
        let routes = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return routes.map { "via \($0["gateway"] as? String ?? "-") dev \($0["dev"] as? String ?? "-")" }.sorted()
    }

    /// Whether this kernel has IPIP, asked the way an operator would, not through lvs-node.
    static var kernelHasIPIP: Bool {
        if FileManager.default.fileExists(atPath: "/sys/module/ipip") { return true }
        let release = (try? runProcess("/bin/uname", ["-r"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
        let dep = (try? String(contentsOfFile: "/lib/modules/\(release)/modules.dep", encoding: .utf8)) ?? ""
        return dep.contains("/ipip.ko")
    }

    @Test(.enabled(if: !kernelHasIPIP, "this kernel has IPIP: the refusal cannot be seen here (the lab proves the TUN path)"))
    func tunIsRefusedCleanlyOnAKernelWithoutIPIP() throws {
        let space = try namespace()
        let before = try space.snapshot(sysctls: ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.rp_filter"])
        let result = try lvsNode(space, ["setup", "--role", "realserver", "--mode", "tun", "--vip", "192.0.2.10"])
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("this host has no IPIP tunnel support in its kernel (CONFIG_NET_IPIP, the ipip module)"))
        #expect(try space.snapshot(sysctls: ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.rp_filter"]) == before)
        #expect(!FileManager.default.fileExists(atPath: directory.file("state-\(space.name)")))
    }

    @Test func natSetsTheDefaultRouteThroughTheDirectorAndRollbackRestoresTheOldOne() throws {
        let rs = try namespace(), peer = try namespace()
        try link(rs, "eth0", peer, "eth0")
        try rs.ip(["addr", "add", "192.0.2.20/24", "dev", "eth0"])
        try rs.ip(["route", "add", "default", "via", "192.0.2.254"])
        let before = try rs.snapshot(sysctls: [])
        let routesBefore = try defaultRoutes(rs)
        let routeBefore = try rs.ip(["-j", "route", "show", "default"])
        let setup = try lvsNode(rs, ["setup", "--role", "realserver", "--mode", "nat", "--gateway", "192.0.2.1"])
        #expect(setup.status == 0, "\(setup)")
        #expect(try defaultRoutes(rs) == ["via 192.0.2.1 dev eth0"])
        #expect(try lvsNode(rs, ["status"]).status == 0)
        #expect(try lvsNode(rs, ["rollback"]).status == 0)
        #expect(try defaultRoutes(rs) == routesBefore)
        // Exactly the route it had: `ip route add` made it with protocol boot, not static.
        #expect(try rs.ip(["-j", "route", "show", "default"]) == routeBefore)
        #expect(try rs.snapshot(sysctls: []) == before)
        let unreachable = try lvsNode(rs, ["setup", "--role", "realserver", "--mode", "nat", "--gateway", "198.51.100.1"])
        #expect(unreachable.status == 65)
        #expect(unreachable.stderr.contains("is on no directly connected network"))
    }

    /// README's router example on a host whose eth1 has no address yet: the spec's own address makes
    /// the gateway's network connected.
    @Test func theReadmeRouterExampleWorksOnAnInterfaceWithoutAnAddress() throws {
        let router = try namespace(), right = try namespace()
        try link(router, "eth1", right, "eth0")
        let setup = try lvsNode(router, ["setup", "--role", "router", "--address", "eth1=203.0.113.200/24",
                                         "--route", "198.51.100.0/24 via 203.0.113.254"])
        #expect(setup.status == 0, "\(setup)")
        let route = try router.ip(["-j", "route", "show", "198.51.100.0/24"])
        #expect(route.contains("\"gateway\":\"203.0.113.254\"") && route.contains("\"dev\":\"eth1\""), "\(route)")
        let unreachable = try lvsNode(router, ["plan", "--role", "router", "--route", "198.51.100.0/24 via 192.0.2.254"], state: "other")
        #expect(unreachable.status == 65)
        #expect(unreachable.stderr.contains("the connected networks are 203.0.113.0/24 on eth1"), "\(unreachable)")
        #expect(!unreachable.stderr.contains("127.0.0.0/8"), "\(unreachable)")
    }

    @Test func theRouterForwardsAndCarriesLabelledAddressesAndRoutes() throws {
        let router = try namespace(), left = try namespace(), right = try namespace()
        try link(router, "eth0", left, "eth0")
        try link(router, "eth1", right, "eth0")
        try router.ip(["addr", "add", "192.0.2.1/24", "dev", "eth0"])
        try router.ip(["addr", "add", "203.0.113.1/24", "dev", "eth1"])
        let sysctls = ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"]
        let before = try router.snapshot(sysctls: sysctls)
        let setup = try lvsNode(router, ["setup", "--role", "router", "--address", "eth1=203.0.113.200/24", "--address", "eth1=203.0.113.201/24",
                                         "--address", "eth0=192.0.2.200/24", "--route", "198.51.100.0/24 via 203.0.113.254", "--ipv6-forwarding"])
        #expect(setup.status == 0, "\(setup)")
        #expect(try router.sysctl("net.ipv4.ip_forward") == "1")
        #expect(try router.sysctl("net.ipv6.conf.all.forwarding") == "1")
        let labels = Dictionary(try router.addresses().map { ("\($0.local)/\($0.prefixLength)", $0.label ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(labels["203.0.113.200/24"] == "eth1:0")
        #expect(labels["203.0.113.201/24"] == "eth1:1")
        #expect(labels["192.0.2.200/24"] == "eth0:0")
        let route = try router.ip(["-j", "route", "show", "198.51.100.0/24"])
        #expect(route.contains("\"gateway\":\"203.0.113.254\"") && route.contains("\"dev\":\"eth1\""), "\(route)")
        #expect(try lvsNode(router, ["rollback"]).status == 0)
        #expect(try router.snapshot(sysctls: sysctls) == before)
        #expect(try router.ip(["route", "show", "198.51.100.0/24"]).isEmpty)

        let missing = try lvsNode(router, ["setup", "--role", "router", "--address", "eth7=203.0.113.9/24", "--route", "198.51.100.0/24 via 203.0.113.254"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("the interface 'eth7' does not exist"))
        #expect(try router.snapshot(sysctls: sysctls) == before)
    }

    /// client 198.51.100.10 ⇄ router (lvs-node router) ⇄ real server 203.0.113.10 (lvs-node realserver nat):
    /// the reply reaches the client only if the real server's default route goes back through the router.
    @Test func aNatRealServerAnswersAClientThroughTheRouter() throws {
        let client = try namespace(), router = try namespace(), rs = try namespace()
        try link(client, "eth0", router, "eth0")
        try link(router, "eth1", rs, "eth0")
        try client.ip(["addr", "add", "198.51.100.10/24", "dev", "eth0"])
        try client.ip(["route", "add", "203.0.113.0/24", "via", "198.51.100.1"])
        try rs.ip(["addr", "add", "203.0.113.10/24", "dev", "eth0"])
        let python = try #require(which("python3"), "python3 runs the listener and the client")
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: which("ip")!)
        listener.arguments = ["netns", "exec", rs.name, python, "-c", """
            import socket, time
            server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("203.0.113.10", 8080)); server.listen(8); server.settimeout(1)
            end = time.time() + 20
            while time.time() < end:
                try:
                    conn, _ = server.accept()
                except socket.timeout:
                    continue
                conn.sendall(b"rs1\\n"); conn.close()
            """]
        try listener.run()
        background.append(listener)
        // SIGKILL: the test runner's blocked signal mask is inherited, so SIGTERM would wait.
        defer { kill(listener.processIdentifier, SIGKILL); listener.waitUntilExit() }
        Thread.sleep(forTimeInterval: 0.5)
        func request() throws -> ProcessResult {
            try client.run(python, ["-c", """
                import socket
                s = socket.create_connection(("203.0.113.10", 8080), timeout=1.5)
                print(s.recv(16).decode().strip())
                """])
        }
        let routerSetup = try lvsNode(router, ["setup", "--role", "router", "--address", "eth0=198.51.100.1/24", "--address", "eth1=203.0.113.1/24"],
                                      state: "router")
        #expect(routerSetup.status == 0, "\(routerSetup)")
        #expect(try request().status != 0, "without the real server's route back, no answer")
        let rsSetup = try lvsNode(rs, ["setup", "--role", "realserver", "--mode", "nat", "--gateway", "203.0.113.1"])
        #expect(rsSetup.status == 0, "\(rsSetup)")
        let answer = try request()
        #expect(answer.status == 0, "\(answer)")
        #expect(answer.stdout == "rs1\n")
        #expect(try lvsNode(router, ["rollback"], state: "router").status == 0)
        #expect(try request().status != 0, "rolled back: the router no longer forwards")
    }
}
