import Foundation
import HostAccess
import NodeModel
import Render
import Steps
import Testing
import TestSupport

/// The MSS-clamping table is compared with what the kernel holds as text, so it must read back from
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
        let ruleset = try rendered(vips)
        let space = try NetworkNamespace()
        defer { space.remove() }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try ruleset.write(toFile: directory.file("mss.nft"), atomically: true, encoding: .utf8)
        let nft = try #require(which("nft"))
        let apply = try space.run(nft, ["-f", directory.file("mss.nft")])
        #expect(apply.status == 0, "\(apply)")
        let listed = try space.run(nft, ["list", "table", "inet", "lvs_node_mss"])
        #expect(listed.stdout == ruleset)
    }
}
