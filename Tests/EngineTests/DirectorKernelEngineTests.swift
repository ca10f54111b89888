import Engine
import Foundation
import HostAccess
import LVSNode
import NodeModel
import Testing
import TestSupport

/// The director's kernel settings against the kernel-like fakes (whose net.ipv4.vs.* appear only
/// once ip_vs is loaded): the modules and module options written for the boot, the IPVS sysctls
/// set live and in sysctl.d, the spec's overrides, and the boot path bringing them and the
/// connection timeouts back.
@Suite struct DirectorKernelEngineTests {
    static func director(_ body: String) throws -> SpecInput {
        try DirectorEngineTests.director(DirectorEngineTests.web + body)
    }

    func file(_ node: FakeNode, _ path: String) -> String? {
        FileManager.default.contents(atPath: node.directory.file(path)).map { String(decoding: $0, as: UTF8.self) }
    }

    func lines(_ text: String?) -> [String] {
        (text ?? "").split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    @Test func theModulesOfTheServicesAreLoadedAtBootBeforeTheSysctls() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(""))
        #expect(lines(file(node, "etc/modules-load.d/lvs-node.conf")) == ["ip_vs", "ip_vs_sh", "ip_vs_wrr"])
        let sysctlFile = lines(file(node, "etc/sysctl.d/90-lvs-node.conf"))
        #expect(sysctlFile.contains("net.ipv4.vs.expire_nodest_conn = 1"), "\(sysctlFile)")
    }

    @Test func theIPVSSysctlsAreSetLiveAndWrittenWithTheRolesDefaults() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director(""))
        let wanted = ["expire_nodest_conn": "1", "expire_quiescent_template": "1", "conn_reuse_mode": "1", "schedule_icmp": "1",
                      "amemthresh": "16384", "drop_entry": "1"]
        let sysctlFile = lines(file(node, "etc/sysctl.d/90-lvs-node.conf"))
        for (name, value) in wanted {
            #expect(node.kernel.sysctl("net.ipv4.vs.\(name)") == value, "\(name)")
            #expect(sysctlFile.contains("net.ipv4.vs.\(name) = \(value)"), "\(name): \(sysctlFile)")
        }
        // Sloppy TCP is for HA pairs only: a lone director sees every flow from its SYN.
        #expect(node.kernel.sysctl("net.ipv4.vs.sloppy_tcp") == "0")
        _ = try node.agent.rollback()
        #expect(node.kernel.sysctl("net.ipv4.vs.expire_nodest_conn") == "0")
    }

    @Test func connReuseModeIsZeroBeforeLinux59AndOneFrom59On() throws {
        for (release, mode) in [("5.4.0-150-generic", "0"), ("5.8.18", "0"), ("5.9.0", "1"), ("6.1.0-26-amd64", "1"), ("garbage", "1")] {
            let node = FakeNode()
            node.kernelRelease = release
            node.kernel.loadIPVS()
            node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv4.vs.conn_reuse_mode")] = "2"
            _ = try node.agent.setup(try Self.director(""))
            #expect(node.kernel.sysctl("net.ipv4.vs.conn_reuse_mode") == mode, "\(release)")
        }
    }

    @Test func theSpecsSysctlsReplaceTheRolesAndAddTheirOwn() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director("""
            kernel:
              sysctls:
                net.ipv4.vs.expire_nodest_conn: 0
                net.ipv4.vs.sync_ports: 4

            """))
        #expect(node.kernel.sysctl("net.ipv4.vs.expire_nodest_conn") == "0")
        #expect(node.kernel.sysctl("net.ipv4.vs.sync_ports") == "4")
        #expect(node.kernel.sysctl("net.ipv4.vs.expire_quiescent_template") == "1")
        let sysctlFile = lines(file(node, "etc/sysctl.d/90-lvs-node.conf"))
        #expect(sysctlFile.contains("net.ipv4.vs.expire_nodest_conn = 0") && sysctlFile.contains("net.ipv4.vs.sync_ports = 4"), "\(sysctlFile)")
        #expect(sysctlFile.filter { $0.hasPrefix("net.ipv4.vs.expire_nodest_conn") }.count == 1, "\(sysctlFile)")
    }

    @Test func aSysctlTheKernelLacksIsRefusedBeforeAnyChange() throws {
        let node = FakeNode()
        node.kernel.loadIPVS()
        node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv4.vs.sync_ports")] = nil   // an older kernel
        let before = node.kernel.snapshot
        let error = try #require(throws: MissingKernelFeature.self) {
            try node.agent.setup(try Self.director("kernel: {sysctls: {net.ipv4.vs.sync_ports: 2}}\n"))
        }
        #expect("\(error)".contains("net.ipv4.vs.sync_ports"))
        #expect(node.kernel.snapshot == before && node.ipvs.requests.isEmpty)
    }

    @Test func theConnectionTableSizeIsAModuleOptionAndThePlanSaysWhenItWaitsForAReload() throws {
        let node = FakeNode()
        node.moduleParameters["ip_vs/conn_tab_bits"] = "12"
        let plan = try node.agent.plan(try Self.director("kernel: {conn-tab-bits: 20}\n"))
        #expect(plan.rebootSurvival.contains { $0.contains("conn_tab_bits 12") && $0.contains("the 20 of /etc/modprobe.d/lvs-node.conf") },
                "\(plan.rebootSurvival)")
        _ = try node.agent.setup(try Self.director("kernel: {conn-tab-bits: 20}\n"))
        #expect(lines(file(node, "etc/modprobe.d/lvs-node.conf")) == ["options ip_vs conn_tab_bits=20"])

        // Once the module runs with the size, nothing more is said; without a size, the default.
        node.moduleParameters["ip_vs/conn_tab_bits"] = "20"
        #expect(!(try node.agent.plan(try Self.director("kernel: {conn-tab-bits: 20}\n")).rebootSurvival.contains { $0.contains("conn_tab_bits") }))
        _ = try node.agent.setup(try Self.director(""))
        #expect(lines(file(node, "etc/modprobe.d/lvs-node.conf")) == ["options ip_vs conn_tab_bits=\(KernelSettings.defaultConnTabBits)"])
    }

    /// kmod's own parser reads the modprobe.d file lvs-node writes.
    @Test(.enabled(if: which("modprobe") != nil, "modprobe (kmod) reads the file"))
    func modprobeReadsTheOptionsFile() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director("kernel: {conn-tab-bits: 16}\n"))
        let result = try runProcess(try #require(which("modprobe")), ["-C", node.directory.file("etc/modprobe.d"), "-c"])
        #expect(result.stdout.split(separator: "\n").contains("options ip_vs conn_tab_bits=16"), "\(result.stdout.prefix(500))")
        #expect(!result.stderr.contains("lvs-node.conf"), "\(result.stderr)")
    }

    @Test func aTUNRealServerLoadsIpipAtBoot() throws {
        let node = FakeNode()
        node.kernel.hasIPIP = true
        _ = try node.agent.setup(try SpecInput.fromFlags(role: "realserver", mode: "tun", vips: ["192.0.2.10"], persist: "none", initSystem: "none"))
        #expect(lines(file(node, "etc/modules-load.d/lvs-node.conf")) == ["ipip"])
        let dr = FakeNode()
        _ = try dr.agent.setup(try SpecInput.fromFlags(role: "realserver", mode: "dr", vips: ["192.0.2.10"], persist: "none", initSystem: "none"))
        #expect(file(dr, "etc/modules-load.d/lvs-node.conf") == nil)
    }

    /// After a reboot ip_vs comes back with its defaults and no table: `lvs-node start` restores the
    /// sysctls, the table and the connection timeouts `ipvsadm --set` would have lost.
    @Test func theBootPathRestoresTheTimeoutsAndTheSysctls() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try Self.director("timeouts: {tcp: 3600, tcpfin: 30, udp: 60}\n"))
        #expect(node.ipvs.timeoutValues == IPVSTimeouts(tcp: 3600, tcpFin: 30, udp: 60))
        // The reboot: the kernel's defaults, an empty table.
        node.ipvs.table = [:]
        node.ipvs.servers = [:]
        node.ipvs.timeoutValues = IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300)
        for (name, value) in FakeKernel.ipvsSysctlDefaults { node.kernel.sysctlValues[SysctlKey(["net", "ipv4", "vs", name])] = value }
        _ = try node.agent.start()
        #expect(node.ipvs.timeoutValues == IPVSTimeouts(tcp: 3600, tcpFin: 30, udp: 60))
        #expect(node.ipvs.table[DirectorEngineTests.webKey] != nil)
        #expect(node.kernel.sysctl("net.ipv4.vs.expire_nodest_conn") == "1")
    }
}

extension DirectorKernelEngineTests {
    /// keepalived leaves the timeouts alone, so an HA director's `timeouts:` were accepted and then
    /// never set (the table step, the only one setting them, is not an HA director's).
    @Test(.enabled(if: which("keepalived") != nil && hostInterface != nil,
                   "keepalived (installed by .ci/run) checks the file, on an interface of this machine"))
    func anHADirectorsTimeoutsAreSetAndRestoredByTheBootPath() throws {
        let interface = try #require(hostInterface)
        let node = FakeNode(interfaces: ["lo", interface])
        _ = try node.agent.setup(try SpecInput.fromYAML("role: director\npersist: none\ninit: none\n" + DirectorEngineTests.web + """
            timeouts: {tcp: 7200, udp: 30}
            ha: {state: BACKUP, priority: 100, interface: \(interface), virtual-router-id: 51}

            """, source: "spec.yaml"))
        #expect(node.ipvs.timeoutValues == IPVSTimeouts(tcp: 7200, tcpFin: 120, udp: 30))
        #expect(node.ipvs.table.isEmpty, "keepalived, not lvs-node, holds an HA director's table")
        #expect(node.kernel.sysctl("net.ipv4.vs.sloppy_tcp") == "1")
        node.ipvs.timeoutValues = IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300)
        _ = try node.agent.start()
        #expect(node.ipvs.timeoutValues == IPVSTimeouts(tcp: 7200, tcpFin: 120, udp: 30))
    }
}

extension DirectorKernelEngineTests {
    /// The spec replaces an HA-only value by name (it is not set twice) and adds its own.
    @Test(.enabled(if: which("keepalived") != nil && hostInterface != nil,
                   "keepalived (installed by .ci/run) checks the file, on an interface of this machine"))
    func anHADirectorsSpecReplacesItsSloppyValueAndAddsItsOwn() throws {
        let interface = try #require(hostInterface)
        let node = FakeNode(interfaces: ["lo", interface])
        _ = try node.agent.setup(try SpecInput.fromYAML("role: director\npersist: none\ninit: none\n" + DirectorEngineTests.web + """
            kernel: {sysctls: {net.ipv4.vs.sloppy_tcp: 0, net.ipv4.vs.sync_ports: 2}}
            ha: {state: BACKUP, priority: 100, interface: \(interface), virtual-router-id: 51}

            """, source: "spec.yaml"))
        #expect(node.kernel.sysctl("net.ipv4.vs.sloppy_tcp") == "0")
        #expect(node.kernel.sysctl("net.ipv4.vs.sloppy_sctp") == "1")
        #expect(node.kernel.sysctl("net.ipv4.vs.sync_ports") == "2")
        #expect(node.kernel.sysctl("net.ipv4.vs.expire_nodest_conn") == "1")
    }
}
