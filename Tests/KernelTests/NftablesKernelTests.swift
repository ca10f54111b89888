import Foundation
import HostAccess
import NodeModel
import Render
import Steps
import Testing
import TestSupport

/// The MSS-clamping and firewall-mark tables are compared with what the kernel holds as text, so it must read back from
/// nft exactly as lvs-node renders it; otherwise every run would see drift. Checked with the real nft
/// in a fresh namespace.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil && which("nft") != nil,
                "needs root, network namespaces and nft (the nftables package, installed by .ci/run)"))
struct NftablesKernelTests {
    func rendered(_ vips: [String]) throws -> String {
        let kernel = FakeKernel()
        kernel.hasIPIP = true
        let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
        let (spec, role) = try SpecInput.fromFlags(role: "realserver", mode: "tun", vips: vips, persist: "none", initSystem: "none",
                                                   mss: "1400").resolve(with: catalog)
        let steps = try StepBuilder(spec: spec, previous: [], host: HostView(addresses: kernel, links: kernel, routes: kernel, packetFilter: kernel),
                                    renderer: TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil },
                                    context: RenderContext(binary: "/usr/local/sbin/lvs-node", root: "/", stateDirectory: "/var/lib/lvs-node"))
            .desiredSteps(for: role)
        return try #require(steps.first { $0.kind == NftablesDriver.kindName }?.desired.first?.state)
    }

    @Test(arguments: [["192.0.2.10"], ["192.0.2.11", "192.0.2.10", "2001:db8::10"], ["2001:db8::11", "2001:db8::10"]])
    func theTableReadsBackFromNftAsRendered(vips: [String]) throws {
        try readsBack(try rendered(vips), table: "lvs_node_mss")
    }

    @Test func theMarkTableReadsBackFromNftAsRendered() throws {
        let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
        let (spec, role) = try SpecInput.fromYAML("""
            role: director
            interface: eth0
            persist: none
            init: none
            services:
              - {fwmark: 1, vip: 192.0.2.10, ports: [88, 80], scheduler: rr}
              - {fwmark: 4294967295, vip: 2001:db8::10, protocol: udp, ports: [53], scheduler: rr}
              - {fwmark: 300, vip: 198.51.100.7, protocol: sctp, ports: [3868, 2905, 9], scheduler: rr}
            """, source: "d.yaml").resolve(with: catalog)
        let kernel = FakeKernel()
        let steps = try StepBuilder(spec: spec, previous: [], host: HostView(addresses: kernel, links: kernel, routes: kernel, packetFilter: kernel,
                                                                             ipvs: IPVSHandle { FakeIPVS() }),
                                    renderer: TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil },
                                    context: RenderContext(binary: "/usr/local/sbin/lvs-node", root: "/", stateDirectory: "/var/lib/lvs-node"))
            .desiredSteps(for: role)
        let ruleset = try #require(steps.first { $0.name == "firewall-marks" }?.desired.first?.state)
        try readsBack(ruleset, table: "lvs_node_marks")
    }

    func readsBack(_ ruleset: String, table: String) throws {
        let space = try NetworkNamespace()
        defer { space.remove() }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try ruleset.write(toFile: directory.file("mss.nft"), atomically: true, encoding: .utf8)
        let nft = try #require(which("nft"))
        let apply = try space.run(nft, ["-f", directory.file("mss.nft")])
        #expect(apply.status == 0, "\(apply)")
        let listed = try space.run(nft, ["list", "table", "inet", table])
        #expect(listed.stdout == ruleset)
    }
}
