import Foundation
import Testing
import TestSupport

/// Interface names the kernel allows but a dotted sysctl name cannot hold: `eth0.100` (a VLAN's usual
/// name; here a veth of that name, since this kernel has no 8021q) is one /proc/sys component.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class InterfaceNameKernelTests {
    let directory = TemporaryDirectory()
    var namespaces: [NetworkNamespace] = []

    deinit {
        namespaces.forEach { $0.remove() }
        directory.remove()
    }

    /// A namespace whose only link besides lo is a veth named `eth0.100`.
    func namespaceWithDottedInterface() throws -> NetworkNamespace {
        let space = try NetworkNamespace()
        namespaces.append(space)
        try space.ip(["link", "add", "eth0.100", "type", "veth", "peer", "name", "peer0"])
        try space.ip(["link", "set", "eth0.100", "up"])
        return space
    }

    @Test(.enabled(if: which("keepalived") != nil, "keepalived validates the HA director's file; the test command installs it"))
    func aDirectorOnADottedInterfaceSetsThatInterfacesSysctlAndItsDropInAppliesAtBoot() throws {
        let space = try namespaceWithDottedInterface()
        let spec = directory.file("director.yaml")
        try """
            role: director
            mode: dr
            persist: none
            init: none
            services:
              - vip: 192.0.2.10
                port: 80
                real-servers: [{address: 192.0.2.11}]
            ha:
              state: MASTER
              priority: 150
              interface: eth0.100
              virtual-router-id: 51
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let root = directory.file("root")
        if !hostHasIPVS { try installDirectorRoleWithoutIPVSSysctls(root: root) }
        let setup = try space.run(lvsNodeBinary, ["setup", "--config", spec, "--root", root, "--state-dir", directory.file("state")])
        #expect(setup.status == 0, "\(setup)")
        #expect(try space.run("/bin/cat", ["/proc/sys/net/ipv4/conf/eth0.100/send_redirects"]).stdout == "0\n")

        // The drop-in, as systemd-sysctl / procps read it at boot, in a fresh namespace with the same link.
        let fresh = try namespaceWithDottedInterface()
        let sysctl = try #require(which("sysctl"), "procps")
        let applied = try fresh.run(sysctl, ["-p", root + "/etc/sysctl.d/90-lvs-node.conf"])
        #expect(applied.status == 0, "\(applied)")
        #expect(try fresh.run("/bin/cat", ["/proc/sys/net/ipv4/conf/eth0.100/send_redirects"]).stdout == "0\n")
    }
}
