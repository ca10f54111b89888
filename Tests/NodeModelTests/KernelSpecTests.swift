import NodeModel
import Testing

/// The director's `kernel:` section: what resolves, what `show` writes back, and each refusal with
/// where it stands and what would be right.
@Suite struct KernelSpecTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
    static let head = "role: director\ninterface: eth0\nservices: [{vip: 192.0.2.10, port: 80}]\n"

    func resolve(_ body: String) throws -> NodeSpec {
        try SpecInput.fromYAML(Self.head + body, source: "d.yaml").resolve(with: catalog).0
    }

    func errors(_ body: String) -> [String] {
        do {
            _ = try resolve(body)
            return []
        } catch let error as SpecErrors {
            return error.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theSectionResolvesAndSurvivesShow() throws {
        let spec = try resolve("kernel:\n  conn-tab-bits: 20\n  sysctls:\n    net.ipv4.vs.sloppy_tcp: 1\n    net.ipv4.vs.amemthresh: '4096'\n")
        #expect(spec.ipvs?.kernel == KernelSettings(connTabBits: 20, sysctls: ["net.ipv4.vs.sloppy_tcp": "1", "net.ipv4.vs.amemthresh": "4096"]))
        let again = try SpecInput.fromYAML(spec.yaml, source: "show").resolve(with: catalog).0
        #expect(again == spec, "\(spec.yaml)")
    }

    @Test func withoutTheSectionTheTableGetsTheDefaultSize() throws {
        let spec = try resolve("")
        #expect(spec.ipvs?.kernel.effectiveConnTabBits == KernelSettings.defaultConnTabBits)
        #expect(!spec.yaml.contains("kernel"))
    }

    @Test(arguments: [
        ("kernel: {conn-tab-bits: 21}\n", "d.yaml line 4: kernel.conn-tab-bits '21' must be a whole number from 8 to 20"),
        ("kernel: {conn-tab-bits: 7}\n", "kernel.conn-tab-bits '7' must be a whole number from 8 to 20"),
        ("kernel: {conn-tab-bits: [12]}\n", "kernel.conn-tab-bits must be a single value"),
        ("kernel: {sysctls: {net.ipv4.ip_forward: 1}}\n", "kernel.sysctls takes only IPVS sysctls (net.ipv4.vs.NAME); 'net.ipv4.ip_forward' is not one"),
        ("kernel: {sysctls: {net.ipv4.vs.expire_nodest: 1}}\n", "did you mean net.ipv4.vs.expire_nodest_conn?"),
        ("kernel: {sysctls: {net.ipv4.vs.sloppy_tcp: yes}}\n", "kernel.sysctls.net.ipv4.vs.sloppy_tcp 'yes' must be a whole number"),
        ("kernel: {sysctls: {net.ipv4.vs.sync_threshold: 3 50}}\n", "is not an IPVS sysctl lvs-node can set"),
        ("kernel: {sysctls: {net.ipv4.vs.amemthresh: 99999999999}}\n", "must be a whole number"),
        ("kernel: {conntab-bits: 12}\n", "did you mean 'conn-tab-bits'?"),
    ])
    func aBadValueIsRefusedWithWhereAndWhatWouldBeRight(body: String, message: String) {
        let found = errors(body)
        #expect(found.count == 1 && found[0].contains(message), "\(found)")
    }

    @Test func theSectionIsTheDirectorsOnly() throws {
        let found = #expect(throws: SpecErrors.self) {
            try SpecInput.fromYAML("role: realserver\nvips: [192.0.2.10]\nkernel: {conn-tab-bits: 12}\n", source: "r.yaml").resolve(with: catalog)
        }
        #expect(found?.errors.map(\.description) == ["r.yaml line 3: services, timeouts, owns-table, drain and kernel is not used by role realserver in mode dr"])
    }
}
