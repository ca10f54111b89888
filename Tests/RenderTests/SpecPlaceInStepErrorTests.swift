import HostAccess
import NodeModel
import Render
import Steps
import Testing
import TestSupport

/// Issue #12 finding 1: a check that needs the host names the spec file and line of the value it
/// refuses, not a flag and not the role file's own line.
@Suite struct SpecPlaceInStepErrorTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func stepErrors(_ yaml: String, interfaces: Set<String> = ["lo", "eth0"]) throws -> [String] {
        let (spec, role) = try SpecInput.fromYAML(yaml, source: "d.yaml").resolve(with: catalog)
        let kernel = FakeKernel(interfaces: interfaces)
        do {
            _ = try StepBuilder(spec: spec, previous: [], host: HostView(addresses: kernel, links: kernel, routes: kernel, packetFilter: kernel, ipvs: IPVSHandle { kernel.loadIPVS(); return FakeIPVS() }),
                                renderer: TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil },
                                context: RenderContext(binary: "/usr/local/sbin/lvs-node", root: "/", stateDirectory: "/var/lib/lvs-node"))
                .desiredSteps(for: role)
            return []
        } catch let error as SpecErrors {
            return error.errors.map(\.description)
        }
    }

    @Test func aDirectorInterfaceThatDoesNotExistIsNamedAtTheSpecsLine() throws {
        let found = try stepErrors("role: director\ninterface: eth9\npersist: none\ninit: none\nservices: [{vip: 192.0.2.10, port: 80}]\n")
        #expect(found.contains { $0.hasPrefix("d.yaml line 2 (interface): the interface 'eth9' does not exist on this host") }, "\(found)")
    }

    @Test func aRouterAddressOnAMissingInterfaceIsNamedAtTheSpecsLine() throws {
        let found = try stepErrors("role: router\npersist: none\ninit: none\naddresses:\n  - {interface: eth7, address: 203.0.113.9/24}\n")
        #expect(found.contains { $0.hasPrefix("d.yaml line 5 (addresses[0].interface): the interface 'eth7' does not exist on this host") }, "\(found)")
    }
}
