import Engine
import Foundation
import HostAccess
import LVSNode
import NodeModel
import Testing
import TestSupport

/// The TUN and NAT real-server modes and the router role against the kernel-like fake.
@Suite struct ModesEngineTests {
    func spec(_ arguments: (inout SpecFlags) -> Void) throws -> SpecInput {
        var flags = SpecFlags()
        arguments(&flags)
        return try SpecInput.fromFlags(role: flags.role, mode: flags.mode, vips: flags.vips, gateway: flags.gateway, mss: flags.mss,
                                       addresses: flags.addresses, routes: flags.routes, ipv6Forwarding: flags.ipv6Forwarding)
    }

    struct SpecFlags {
        var role = "realserver", mode: String?, vips: [String] = [], gateway: String?, mss: String?
        var addresses: [String] = [], routes: [String] = [], ipv6Forwarding = false
    }

    @Test func tunWithoutIPIPIsRefusedBeforeAnyChange() throws {
        let node = FakeNode()
        let before = node.kernel.snapshot
        #expect(throws: MissingKernelFeature.self) {
            try node.agent.setup(try spec { $0.mode = "tun"; $0.vips = ["192.0.2.10"] })
        }
        #expect(node.kernel.snapshot == before)
        #expect(!FileManager.default.fileExists(atPath: node.stateDirectory))
    }

    @Test func tunCreatesTunl0WhenTheKernelHasIPIPAndRollbackRemovesIt() throws {
        let node = FakeNode()
        node.kernel.hasIPIP = true
        let before = node.kernel.snapshot
        var order: [String] = []
        node.kernel.beforeMutation = { order.append($0) }
        _ = try node.agent.setup(try spec { $0.mode = "tun"; $0.vips = ["192.0.2.10", "192.0.2.11"] })
        #expect(order.prefix(2) == ["create tunl0", "set tunl0 up"])
        #expect(node.kernel.labels(on: "tunl0") == ["192.0.2.10/32": "tunl0:0", "192.0.2.11/32": "tunl0:1"])
        #expect(node.kernel.sysctl("net.ipv4.conf.tunl0.rp_filter") == "0")
        #expect(node.kernel.sysctl("net.ipv4.conf.tunl0.arp_ignore") == "1")
        #expect(node.kernel.sysctl("net.ipv4.conf.all.rp_filter") == "0")
        #expect(try node.agent.status().drift.isEmpty)
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == before)
    }

    @Test func tunBringsAnExistingTunl0UpAndRollbackTakesItDown() throws {
        let node = FakeNode()
        node.kernel.interfaces.insert("tunl0")
        node.kernel.linkState["tunl0"] = ("ipip", false)
        for key in ["arp_ignore", "arp_announce", "rp_filter"] { node.kernel.sysctlValues[SysctlKey(["net", "ipv4", "conf", "tunl0", key])] = "0" }
        node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv4.conf.all.rp_filter")] = "2"
        let before = node.kernel.snapshot
        let report = try node.agent.setup(try spec { $0.mode = "tun"; $0.vips = ["192.0.2.10"] })
        #expect(report.lines.contains("~ link tunl0 ipip down → ipip up"))
        #expect(report.lines.contains("~ sysctl net.ipv4.conf.all.rp_filter 2 → 0"))
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == before)
    }

    @Test func tunMSSClampingIsATableOfItsOwnThatRollbackRemoves() throws {
        let node = FakeNode()
        node.kernel.hasIPIP = true
        let before = node.kernel.snapshot
        _ = try node.agent.setup(try spec { $0.mode = "tun"; $0.vips = ["192.0.2.11", "192.0.2.10", "2001:db8::10"]; $0.mss = "1400" })
        let table = try #require(node.kernel.tables["inet lvs_node_mss"])
        #expect(table.contains("\t\tip saddr { 192.0.2.10, 192.0.2.11 } tcp flags syn,ack / syn,ack tcp option maxseg size set 1400\n"))
        #expect(table.contains("\t\tip6 saddr 2001:db8::10 tcp flags syn,ack / syn,ack tcp option maxseg size set 1400\n"))
        // Dropping tun.mss removes the table and nothing else.
        let without = try node.agent.setup(try spec { $0.mode = "tun"; $0.vips = ["192.0.2.11", "192.0.2.10", "2001:db8::10"] })
        #expect(without.lines.first == "- nftables table inet lvs_node_mss")
        #expect(node.kernel.tables.isEmpty)
        _ = try node.agent.rollback()
        #expect(node.kernel.tables["inet lvs_node_mss"] == table)
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == before)
    }

    @Test func tunMSSWithoutNftIsRefusedBeforeAnyChange() throws {
        let node = FakeNode()
        node.kernel.hasIPIP = true
        node.kernel.hasNft = false
        let before = node.kernel.snapshot
        #expect {
            try node.agent.setup(try spec { $0.mode = "tun"; $0.vips = ["192.0.2.10"]; $0.mss = "1400" })
        } throws: { error in "\(error)" == "this host has no nft (the nftables package), which tun.mss (step 'tcp-mss') needs; nothing was changed" }
        #expect(node.kernel.snapshot == before)
    }

    @Test func natReplacesTheDefaultRouteAndRollbackBringsTheOldOneBack() throws {
        let node = FakeNode()
        node.kernel.addressList.append(InterfaceAddress(interface: "eth0", address: "192.0.2.20", prefixLength: 24, label: "eth0"))
        node.kernel.routeTable = [RouteEntry(destination: "default", gateway: "192.0.2.254", device: "eth0"),
                                  RouteEntry(destination: "default", gateway: "192.0.2.253", device: "eth0", metric: 100)]
        let before = node.kernel.snapshot
        let report = try node.agent.setup(try spec { $0.mode = "nat"; $0.gateway = "192.0.2.1" })
        #expect(report.lines == ["~ route default via 192.0.2.253 dev eth0 metric 100; via 192.0.2.254 dev eth0 → via 192.0.2.1 dev eth0"])
        #expect(node.kernel.routeTable == [RouteEntry(destination: "default", gateway: "192.0.2.1", device: "eth0")])
        #expect(node.kernel.labels(on: "lo") == ["127.0.0.1/8": "lo"], "no VIP on a NAT real server")
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == before)
    }

    @Test func aNatGatewayOffEveryConnectedNetworkIsRefused() throws {
        let node = FakeNode()
        node.kernel.addressList.append(InterfaceAddress(interface: "eth0", address: "192.0.2.20", prefixLength: 24, label: "eth0"))
        #expect {
            try node.agent.setup(try spec { $0.mode = "nat"; $0.gateway = "198.51.100.1" })
        } throws: { error in
            // The hint names the networks a gateway could be on, never loopback.
            "\(error)".contains("the gateway 198.51.100.1 is on no directly connected network of this host: the connected networks are 192.0.2.0/24 on eth0")
                && !"\(error)".contains("127.0.0.0")
        }
    }

    @Test func theRouterForwardsLabelsItsAddressesPerDeviceAndRoutes() throws {
        let node = FakeNode()
        node.kernel.interfaces.insert("eth1")
        node.kernel.addressList.append(InterfaceAddress(interface: "eth0", address: "192.0.2.1", prefixLength: 24, label: "eth0"))
        node.kernel.addressList.append(InterfaceAddress(interface: "eth1", address: "203.0.113.1", prefixLength: 24, label: "eth1"))
        node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv6.conf.all.forwarding")] = "0"
        let before = node.kernel.snapshot
        _ = try node.agent.setup(try spec {
            $0.role = "router"
            $0.addresses = ["eth1=203.0.113.200/24", "eth0=192.0.2.200/24", "eth1=203.0.113.201/24"]
            $0.routes = ["198.51.100.0/24 via 203.0.113.254"]
            $0.ipv6Forwarding = true
        })
        #expect(node.kernel.sysctl("net.ipv4.ip_forward") == "1")
        #expect(node.kernel.sysctl("net.ipv6.conf.all.forwarding") == "1")
        #expect(node.kernel.labels(on: "eth1") == ["203.0.113.1/24": "eth1", "203.0.113.200/24": "eth1:0", "203.0.113.201/24": "eth1:1"])
        #expect(node.kernel.labels(on: "eth0")["192.0.2.200/24"] == "eth0:0")
        #expect(node.kernel.routeTable == [RouteEntry(destination: "198.51.100.0/24", gateway: "203.0.113.254", device: "eth1")])
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == before)
    }

    @Test func aRouterAddressOnAMissingInterfaceIsRefused() throws {
        let node = FakeNode()
        let before = node.kernel.snapshot
        #expect {
            try node.agent.setup(try spec { $0.role = "router"; $0.addresses = ["eth9=203.0.113.200/24"]; $0.routes = [] })
        } throws: { error in "\(error)".contains("the interface 'eth9' does not exist on this host") }
        #expect(node.kernel.snapshot == before)
    }
}
