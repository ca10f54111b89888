import Engine
import Foundation
import HostAccess
import LVSNode
import NodeModel
import Steps
import Testing
import TestSupport

/// The director role against the kernel-like fakes: reconciliation of the IPVS table, ownership,
/// drift, failure and rollback.
@Suite struct DirectorEngineTests {
    static func director(_ body: String, mode: String = "dr") throws -> SpecInput {
        try SpecInput.fromYAML("role: director\nmode: \(mode)\ninterface: eth0\npersist: none\ninit: none\n" + body, source: "spec.yaml")
    }

    static let web = """
        services:
          - vip: 192.0.2.10
            port: 80
            scheduler: wrr
            real-servers:
              - {address: 192.0.2.11, weight: 2}
              - {address: 192.0.2.12}
          - fwmark: 3
            vip: 192.0.2.10
            ports: [443, 8443]
            scheduler: sh
            flags: [sh-port]
            persistence: 600
            netmask: 255.255.255.0
            real-servers: [{address: 192.0.2.11}]

        """
    static let webKey = IPVSServiceKey.address(.tcp, address: "192.0.2.10", port: 80)
    static let foreignKey = IPVSServiceKey.address(.udp, address: "203.0.113.5", port: 53)

    /// A service someone else made, with a real server.
    static func addForeign(_ ipvs: FakeIPVS) throws {
        try ipvs.apply([.addService(IPVSService(key: foreignKey, scheduler: "rr")),
                        .addDestination(IPVSDestination(service: foreignKey, address: "203.0.113.6", port: 53, forwarding: .nat, weight: 1))])
    }

    @Test func setupBuildsTheTableTheVIPAndTheMarksAndASecondRunChangesNothing() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        let web = try #require(node.ipvs.table[Self.webKey])
        #expect(web.scheduler == "wrr" && web.flags == 0)
        #expect(node.ipvs.servers[Self.webKey]?["192.0.2.11:80"]?.weight == 2)
        #expect(node.ipvs.servers[Self.webKey]?["192.0.2.12:80"]?.forwarding == .dr)
        let mark = try #require(node.ipvs.table[.firewallMark(3, ipv6: false)])
        #expect(mark.scheduler == "sh" && mark.flags == IPVSService.persistent | IPVSService.schedulerFlag2)
        #expect(mark.timeout == 600 && mark.netmask == 0xffff_ff00)
        #expect(node.ipvs.servers[.firewallMark(3, ipv6: false)]?["192.0.2.11:0"] != nil)
        #expect(node.kernel.labels(on: "eth0") == ["192.0.2.10/32": "eth0:0"])
        #expect(node.kernel.sysctl("net.ipv4.conf.eth0.send_redirects") == "0")
        #expect(node.kernel.sysctl("net.ipv4.ip_forward") == "0")
        #expect(node.kernel.tables["inet lvs_node_marks"]?.contains("ip daddr 192.0.2.10 tcp dport { 443, 8443 } meta mark set 0x00000003") == true)
        #expect(try node.agent.status().drift.isEmpty)
        let requests = node.ipvs.requests.count
        #expect(try node.agent.setup(try Self.director(Self.web)).generation == nil)
        #expect(node.ipvs.requests.count == requests)
    }

    @Test func natForwardsAndMapsPorts() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director("""
            services:
              - {vip: 192.0.2.10, port: 80, scheduler: rr, real-servers: [{address: 198.51.100.11, port: 8080}]}

            """, mode: "nat"))
        #expect(node.kernel.sysctl("net.ipv4.ip_forward") == "1")
        let server = try #require(node.ipvs.servers[Self.webKey]?["198.51.100.11:8080"])
        #expect(server.forwarding == .nat)
    }

    @Test func aForeignServiceStaysUnlessTheSpecOwnsTheTableAndRollbackBringsItBack() throws {
        let node = FakeNode()
        try Self.addForeign(node.ipvs)
        let before = node.ipvs.snapshot
        _ = try node.agent.setup(try Self.director(Self.web))
        #expect(node.ipvs.table[Self.foreignKey] != nil)
        let status = try node.agent.status()
        #expect(status.drift.isEmpty)
        #expect(status.ipvsTable.contains { $0.hasPrefix("UDP  203.0.113.5:53 rr") && $0.hasSuffix("[not lvs-node's]") })

        _ = try node.agent.setup(try Self.director(Self.web + "owns-table: true\n"))
        #expect(node.ipvs.table[Self.foreignKey] == nil)
        _ = try node.agent.rollback()
        _ = try node.agent.rollback()
        #expect(node.ipvs.snapshot == before)
    }

    /// A rollback that empties a table holding only lvs-node's services is one IPVS_CMD_FLUSH (what
    /// `ipvsadm -C` sends), not a request per service.
    @Test func aRollbackThatEmptiesATableOfOnlyLVSNodesServicesIsOneFlush() throws {
        let node = FakeNode()
        node.kernel.loadIPVS()
        let before = node.ipvs.snapshot
        _ = try node.agent.setup(try Self.director(Self.web))
        let start = node.ipvs.requests.count
        _ = try node.agent.rollback()
        #expect(Array(node.ipvs.requests[start...]) == [.flush])
        #expect(node.ipvs.snapshot == before)
    }

    /// A generation file as the release before the lazy reader wrote it (format 2, bytes written out
    /// here, its FNV-1a checksum computed here) still reads, and rolls the table back to empty.
    @Test func aGenerationWrittenByAnEarlierReleaseRollsBack() throws {
        let node = FakeNode()
        let mark = IPVSServiceKey.firewallMark(1, ipv6: false)
        try node.ipvs.session().apply([.addService(IPVSService(key: mark, scheduler: "wrr")),
                                       .addDestination(IPVSDestination(service: mark, address: "198.18.0.1", port: 0, forwarding: .dr, weight: 1)),
                                       .addDestination(IPVSDestination(service: mark, address: "198.18.0.2", port: 0, forwarding: .dr, weight: 2))])
        let body = """
            format\t2
            generation\t1
            created\t2026-11-20T10:00:00Z
            summary\tdirector (dr, persist none, init none)
            spec\trole: director\\ninterface: lo\\n
            step\tIPVS table\tipvs
            desired\tservice fwmark 1\t=wrr
            desired\tserver fwmark 1 198.18.0.1:0\t=dr weight 1
            desired\tserver fwmark 1 198.18.0.2:0\t=dr weight 2
            change\tipvs\tservice fwmark 1\t!\t=wrr
            change\tipvs\tserver fwmark 1 198.18.0.1:0\t!\t=dr weight 1
            change\tipvs\tserver fwmark 1 198.18.0.2:0\t!\t=dr weight 2
            baseline\tipvs server fwmark 1 198.18.0.1:0\t!
            baseline\tipvs server fwmark 1 198.18.0.2:0\t!
            baseline\tipvs service fwmark 1\t!

            """
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let digits = String(hash, radix: 16)
        try FileManager.default.createDirectory(atPath: node.stateDirectory + "/generations", withIntermediateDirectories: true)
        try (body + "end\t" + String(repeating: "0", count: 16 - digits.count) + digits + "\n")
            .write(toFile: node.stateDirectory + "/generations/000001", atomically: true, encoding: .utf8)
        let history = try node.agent.history()
        #expect(history.map(\.number) == [1] && history[0].changes.count == 3 && history[0].spec == "role: director\ninterface: lo\n")
        let report = try node.agent.rollback()
        #expect(report.generation == 1 && report.changes.count == 3)
        #expect(node.ipvs.table.isEmpty && node.ipvs.servers.values.allSatisfy(\.isEmpty))
        #expect(try node.agent.history().first?.rolledBack != nil)
    }

    /// A service someone else added after lvs-node's table was made: the rollback removes lvs-node's
    /// services one by one and leaves it (a flush would take it too).
    @Test func aForeignServiceAddedLaterIsNotFlushedAway() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        try Self.addForeign(node.ipvs)
        let start = node.ipvs.requests.count
        _ = try node.agent.rollback()
        #expect(!node.ipvs.requests[start...].contains(.flush))
        #expect(node.ipvs.table.keys.sorted() == [Self.foreignKey])
        #expect(node.ipvs.servers[Self.foreignKey]?.count == 1)
    }

    /// A foreign service added between the plan and the flush (another tool, not under lvs-node's lock):
    /// the driver reads the table again before it flushes, so the foreign service stays.
    @Test func aForeignServiceAddedDuringTheRollbackIsNotFlushedAway() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        var dumps = 0
        node.ipvs.beforeDump = {
            dumps += 1
            // The rollback's plan reads services and real servers (two dumps); the next read is the flush's check.
            if dumps == 3 { try? Self.addForeign(node.ipvs) }
        }
        _ = try node.agent.rollback()
        #expect(node.ipvs.table.keys.sorted() == [Self.foreignKey])
    }

    /// A refused flush undoes the rollback: every service and real server is as the generation had it.
    @Test func aRefusedFlushUndoesTheRollbackExactly() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        let applied = node.ipvs.snapshot
        node.ipvs.failing = { $0 == .flush ? ENOMEM : nil }
        let failure = try #require(throws: RunFailure.self) { try node.agent.rollback() }
        #expect(failure.restored)
        #expect(node.ipvs.snapshot == applied)
    }

    /// A failure after the flush (the VIP cannot be removed) undoes the rollback: every service and
    /// real server the flush took is made again, from the journal's record of each.
    @Test func aFailureAfterTheFlushPutsBackEveryServiceAndRealServer() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        let applied = node.ipvs.snapshot
        let start = node.ipvs.requests.count
        node.kernel.failRemoving["192.0.2.10/32"] = EBUSY
        let failure = try #require(throws: RunFailure.self) { try node.agent.rollback() }
        #expect(failure.restored)
        #expect(node.ipvs.requests[start...].contains(.flush))
        #expect(node.ipvs.snapshot == applied)
    }

    @Test func realServersAndServicesLeavingTheSpecAreRemovedInAWorkingOrder() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        let start = node.ipvs.requests.count
        let report = try node.agent.setup(try Self.director("""
            services:
              - {vip: 192.0.2.10, port: 80, scheduler: rr, real-servers: [{address: 192.0.2.12, weight: 5}]}

            """))
        #expect(report.lines.contains("~ IPVS service tcp 192.0.2.10:80: wrr → rr"))
        #expect(report.lines.contains("- IPVS real server 192.0.2.11:80 of tcp 192.0.2.10:80 (dr weight 2)"))
        #expect(node.ipvs.table.keys.sorted() == [Self.webKey])
        #expect(node.ipvs.servers[Self.webKey]?.keys.sorted() == ["192.0.2.12:80"])
        #expect(node.ipvs.servers[Self.webKey]?["192.0.2.12:80"]?.weight == 5)
        #expect(node.kernel.tables["inet lvs_node_marks"] == nil)
        // The mark service's real server goes with its service, without a request of its own.
        let requests = node.ipvs.requests[start...]
        #expect(requests.contains(.deleteService(.firewallMark(3, ipv6: false))))
        #expect(!requests.contains { if case .deleteDestination(let server) = $0 { return server.service == .firewallMark(3, ipv6: false) }; return false })
        _ = try node.agent.rollback()
        #expect(node.ipvs.table[.firewallMark(3, ipv6: false)] != nil)
        #expect(node.ipvs.servers[Self.webKey]?["192.0.2.11:80"]?.weight == 2)
    }

    @Test func aRefusedRequestUndoesTheWholeRun() throws {
        let node = FakeNode()
        try Self.addForeign(node.ipvs)
        node.kernel.loadIPVS()   // loading the module is not lvs-node's change to undo
        let before = (node.ipvs.snapshot, node.kernel.snapshot)
        node.ipvs.failing = { operation in
            if case .addDestination(let server) = operation, server.address == "192.0.2.12" { return ENOMEM }
            return nil
        }
        #expect(throws: RunFailure.self) { try node.agent.setup(try Self.director(Self.web)) }
        #expect(node.ipvs.snapshot == before.0)
        #expect(node.kernel.snapshot == before.1)
    }

    @Test func driftIsReportedAndRepaired() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        try node.ipvs.apply([.deleteDestination(IPVSDestination(service: Self.webKey, address: "192.0.2.12", port: 80, forwarding: .dr, weight: 1)),
                             .editDestination(IPVSDestination(service: Self.webKey, address: "192.0.2.11", port: 80, forwarding: .dr, weight: 9))])
        let status = try node.agent.status()
        #expect(status.drift.contains("+ IPVS real server 192.0.2.12:80 of tcp 192.0.2.10:80 (dr weight 1)"))
        #expect(status.drift.contains("~ IPVS real server 192.0.2.11:80 of tcp 192.0.2.10:80: dr weight 9 → dr weight 2"))
        #expect(status.ipvsTable.contains { $0.contains("192.0.2.11:80") && $0.hasSuffix("[drift: spec wants dr weight 2]") })
        let row = try #require(status.ipvsTable.firstIndex { $0.hasPrefix("TCP  192.0.2.10:80 wrr") })
        #expect(status.ipvsTable[row + 2] == "  -> 192.0.2.12:80                [missing; spec wants dr weight 1]", "\(status.ipvsTable)")
        _ = try node.agent.setup(try Self.director(Self.web))
        #expect(try node.agent.status().drift.isEmpty)
    }

    @Test func aServiceDeletedByHandIsShownMissingWithItsRealServers() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web))
        try node.ipvs.apply([.deleteService(Self.webKey)])
        let table = try node.agent.status().ipvsTable
        let row = try #require(table.firstIndex(of: "tcp 192.0.2.10:80 [missing; spec wants wrr]"), "\(table)")
        #expect(table[(row + 1)...].prefix(2) == ["  -> 192.0.2.11:80                [missing; spec wants dr weight 2]",
                                                  "  -> 192.0.2.12:80                [missing; spec wants dr weight 1]"])
    }

    @Test func aSchedulerTheKernelCannotLoadIsRefusedBeforeAnyChange() throws {
        let node = FakeNode()
        node.ipvs.schedulers.remove("wrr")
        node.kernel.loadIPVS()   // loading the module is not lvs-node's change to undo
        let before = node.kernel.snapshot
        #expect(throws: MissingKernelFeature.self) { try node.agent.setup(try Self.director(Self.web)) }
        #expect(node.ipvs.requests.isEmpty && node.kernel.snapshot == before)
    }

    @Test func aKernelWithoutIPVSIsRefusedBeforeAnyChange() throws {
        let node = FakeNode()
        let environment = NodeEnvironment(root: node.environment.root, addresses: { node.kernel }, links: { node.kernel },
                                          routes: { node.kernel }, packetFilter: { node.kernel }, sysctls: { node.kernel },
                                          mayChangeNetwork: { true })
        let before = node.kernel.snapshot
        #expect(throws: MissingKernelFeature.self) { try NodeAgent(environment).setup(try Self.director(Self.web)) }
        #expect(node.kernel.snapshot == before)
    }

    @Test func timeoutsAreSetAndRolledBack() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(Self.web + "timeouts: {tcp: 3600, udp: 60}\n"))
        #expect(node.ipvs.timeoutValues == IPVSTimeouts(tcp: 3600, tcpFin: 120, udp: 60))
        _ = try node.agent.rollback()
        #expect(node.ipvs.timeoutValues == IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300))
    }

    @Test(.enabled(if: which("keepalived") != nil && hostInterface != nil,
                   "keepalived (installed by .ci/run) checks the file, on an interface of this machine"))
    func haModeLeavesTheTableAndVIPsToKeepalived() throws {
        let interface = try #require(hostInterface)
        let node = FakeNode(interfaces: ["lo", interface])
        let report = try node.agent.setup(try SpecInput.fromYAML("role: director\npersist: none\ninit: none\n" + Self.web + """
            ha: {state: BACKUP, priority: 100, interface: \(interface), virtual-router-id: 51, password: s3cret}

            """, source: "spec.yaml"))
        #expect(node.ipvs.requests.isEmpty)
        #expect(node.kernel.labels(on: interface).isEmpty)
        // The plan shows keepalived.conf's diff for review, with only the password masked.
        #expect(!report.lines.joined().contains("s3cret"))
        #expect(report.lines.contains { $0.hasPrefix("    +") && $0.hasSuffix("auth_pass ********") }, "\(report.lines)")
        #expect(report.lines.contains { $0.hasPrefix("    +") && $0.contains("virtual_router_id 51") }, "\(report.lines)")
        #expect(report.lines.contains("    +net.ipv4.conf.\(interface).send_redirects = 0"))
        let path = node.directory.file("etc/keepalived/keepalived.conf")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(report.notes == ["/etc/keepalived/keepalived.conf changed; its daemon is not running (no live process in /run/keepalived.pid), so it takes effect when it starts"])
        // The mark rules are needed by keepalived's mark services too.
        #expect(node.kernel.tables["inet lvs_node_marks"] != nil)
    }

    /// A pid file keepalived could never have written (a FIFO: reading it would block) is refused
    /// before any change, not found when the run tries to reload after changing the host.
    @Test(.enabled(if: which("keepalived") != nil && hostInterface != nil,
                   "keepalived (installed by .ci/run) checks the file, on an interface of this machine"))
    func aPidFileThatIsAFIFOIsRefusedBeforeAnyChange() throws {
        let interface = try #require(hostInterface)
        let node = FakeNode(interfaces: ["lo", interface])
        try FileManager.default.createDirectory(atPath: node.directory.file("run"), withIntermediateDirectories: true)
        #expect(mkfifo(node.directory.file("run/keepalived.pid"), 0o600) == 0)
        node.kernel.loadIPVS()   // loading the module is not lvs-node's change to undo
        let before = node.kernel.snapshot
        #expect(throws: HostError.self) {
            try node.agent.setup(try SpecInput.fromYAML("role: director\npersist: none\ninit: none\n" + Self.web + """
                ha: {state: BACKUP, priority: 100, interface: \(interface), virtual-router-id: 51}

                """, source: "spec.yaml"))
        }
        #expect(node.kernel.snapshot == before)
        #expect(!FileManager.default.fileExists(atPath: node.directory.file("etc/keepalived/keepalived.conf")))
    }
}

/// The subject texts of real servers are written into the generation and the journal: their spelling
/// stays what earlier releases wrote (IPv6 in brackets, the port in decimal), however they are built.
@Suite struct IPVSSubjectTextTests {
    @Test(arguments: [
        (IPVSDestination(service: .firewallMark(7, ipv6: false), address: "198.18.0.1", port: 0, forwarding: .dr, weight: 1),
         "server fwmark 7 198.18.0.1:0"),
        (IPVSDestination(service: .address(.tcp, address: "192.0.2.10", port: 80), address: "198.51.100.11", port: 65535, forwarding: .nat, weight: 1),
         "server tcp 192.0.2.10:80 198.51.100.11:65535"),
        (IPVSDestination(service: .address(.udp, address: "2001:db8::10", port: 53), address: "2001:db8::11", port: 5353, forwarding: .tun, weight: 1),
         "server udp [2001:db8::10]:53 [2001:db8::11]:5353"),
    ])
    func aRealServersSubjectIsSpelledAsAlways(destination: IPVSDestination, subject: String) {
        #expect(IPVSDriver.subject(destination) == subject)
    }

    /// The plan lines of every shape of IPVS change, as earlier releases printed them.
    @Test func everyKindOfIPVSChangeIsDescribedAsBefore() {
        let driver = IPVSDriver(IPVSHandle { throw HostError(operation: "open", subject: "IPVS", errno: ENOENT) })
        let lines = [
            Change(kind: "ipvs", subject: "service fwmark 1", before: nil, after: "wrr"),
            Change(kind: "ipvs", subject: "server fwmark 1 198.18.0.1:0", before: "dr weight 1", after: nil),
            Change(kind: "ipvs", subject: "server tcp [2001:db8::10]:80 [2001:db8::11]:80", before: "dr weight 1", after: "dr weight 2"),
            Change(kind: "ipvs", subject: "timeouts", before: "tcp 900 tcpfin 120 udp 300", after: "tcp 60 tcpfin 120 udp 300"),
        ].map(driver.describe)
        #expect(lines == ["IPVS service fwmark 1 (wrr)", "IPVS real server 198.18.0.1:0 of fwmark 1 (dr weight 1)",
                          "IPVS real server [2001:db8::11]:80 of tcp [2001:db8::10]:80: dr weight 1 → dr weight 2",
                          "IPVS timeouts: tcp 900 tcpfin 120 udp 300 → tcp 60 tcpfin 120 udp 300"])
    }
}
