import Foundation
import Testing
import TestSupport

/// `lvs-node show` prints the spec in force so that `show | setup --config -` is a no-op: no change,
/// no new generation (so the generation's steps are the same). Run with the real binary in a fresh
/// network namespace; the VRRP password is printed only to root.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil, Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class ShowKernelTests {
    let directory = TemporaryDirectory()

    init() { chmod(directory.path, 0o755) }   // nobody must walk in, as into /
    deinit { directory.remove() }

    /// A namespace with the interfaces the README's specs name: eth0 on 192.0.2.0/24 (a NAT real
    /// server's gateway) and eth1.
    func namespaceForReadmeSpecs() throws -> NetworkNamespace {
        let namespace = try NetworkNamespace()
        for (name, peer, address) in [("eth0", "peer0", "192.0.2.2/24"), ("eth1", "peer1", "203.0.113.2/24")] {
            try namespace.ip(["link", "add", name, "type", "veth", "peer", "name", peer])
            try namespace.ip(["addr", "add", address, "dev", name])
            try namespace.ip(["link", "set", name, "up"])
            try namespace.ip(["link", "set", peer, "up"])
        }
        return namespace
    }

    func lvsNode(_ namespace: NetworkNamespace, _ arguments: [String], _ case: String, input: String? = nil) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, arguments + ["--root", directory.file("\(`case`)/root"), "--state-dir", directory.file("\(`case`)/state")],
                          input: input)
    }

    /// Applies `spec`, then feeds `show`'s output back to setup: nothing changes, no generation is added.
    @discardableResult
    func expectShowReproduces(_ spec: String, _ label: String, in namespace: NetworkNamespace) throws -> Bool {
        try FileManager.default.createDirectory(atPath: directory.file("\(label)/root"), withIntermediateDirectories: true)
        let file = directory.file("\(label).yaml")
        try spec.write(toFile: file, atomically: true, encoding: .utf8)
        let setup = try lvsNode(namespace, ["setup", "--config", file], label)
        if setup.status == 69 { return false }   // a kernel feature this machine lacks (IPIP): said on stderr, nothing to show
        try #require(setup.status == 0, "\(label): \(setup)\n\(spec)")
        let shown = try lvsNode(namespace, ["show"], label)
        #expect(shown.status == 0 && shown.stderr.isEmpty, "\(label): \(shown)")
        let again = try lvsNode(namespace, ["setup", "--config", "-"], label, input: shown.stdout)
        #expect(again.status == 0 && again.stdout.contains("no changes needed"), "\(label): \(again)\nshown:\n\(shown.stdout)")
        let history = try lvsNode(namespace, ["history"], label)
        #expect(history.stdout.contains("1 generation;"), "\(label): \(history)")
        return true
    }

    /// The README's ```yaml specs that are not directors (a director needs IPVS; the engine tests cover those).
    static func readmeSpecs() -> [String] {
        var blocks: [String] = [], current: [Substring]?
        for line in ReadmeKernelTests.readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```yaml" { current = []; continue }
            if line == "```", let block = current {
                let text = block.joined(separator: "\n")
                if text.hasPrefix("role: ") || text.contains("\nrole: ") { blocks.append(text) }
                current = nil
                continue
            }
            current?.append(line)
        }
        return blocks.filter { !$0.contains("role: director") }
    }

    @Test func showOfEveryReadmeRealserverAndRouterSpecSetsUpNothingNew() throws {
        let specs = Self.readmeSpecs()
        #expect(specs.count >= 4)
        let namespace = try namespaceForReadmeSpecs()
        defer { namespace.remove() }
        var applied = 0
        for (index, spec) in specs.enumerated() {
            // persist/init files go under --root; a systemd unit needs its directory there.
            try FileManager.default.createDirectory(atPath: directory.file("readme\(index)/root/etc/systemd/system"), withIntermediateDirectories: true)
            if try expectShowReproduces(spec, "readme\(index)", in: namespace) { applied += 1 }
        }
        #expect(applied >= specs.count - 1, "only the TUN spec may be skipped, on a kernel without IPIP")
        // The flag examples of the README's command table.
        let flags: [[String]] = [["--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11"],
                                 ["--role", "realserver", "--mode", "nat", "--gateway", "192.0.2.1"],
                                 ["--role", "router", "--address", "eth1=203.0.113.200/24", "--route", "198.51.100.0/24 via 203.0.113.254"]]
        for (index, arguments) in flags.enumerated() {
            let label = "flags\(index)"
            try FileManager.default.createDirectory(atPath: directory.file("\(label)/root"), withIntermediateDirectories: true)
            let setup = try lvsNode(namespace, ["setup"] + arguments + ["--persist", "none", "--init", "none"], label)
            try #require(setup.status == 0, "\(arguments): \(setup)")
            let shown = try lvsNode(namespace, ["show"], label)
            let again = try lvsNode(namespace, ["setup", "--config", "-"], label, input: shown.stdout)
            #expect(again.status == 0 && again.stdout.contains("no changes needed"), "\(arguments): \(again)\n\(shown.stdout)")
        }
    }

    @Test(.enabled(if: which("setpriv") != nil && which("keepalived") != nil, "needs util-linux setpriv and keepalived"))
    func anHADirectorsPasswordIsShownOnlyToRoot() throws {
        let namespace = try namespaceForReadmeSpecs()
        defer { namespace.remove() }
        let spec = """
            role: director
            persist: none
            init: none
            interface: eth0
            services:
              - {vip: 192.0.2.10, port: 80, scheduler: rr, persistence: 300,
                 check: {type: http, path: "/health?a=1&b=%23", status: 204, retry: 1},
                 real-servers: [{address: 192.0.2.11, weight: 3, check: {type: tcp, connect-timeout: 2}}, {address: 192.0.2.12}]}
            ha: {state: BACKUP, priority: 100, interface: eth0, virtual-router-id: 51, password: "s3:cr'et",
                 unicast-source: 192.0.2.2, unicast-peers: [192.0.2.3]}
            """
        if !hostHasIPVS { try installDirectorRoleWithoutIPVSSysctls(root: directory.file("ha/root")) }
        try expectShowReproduces(spec, "ha", in: namespace)

        let asRoot = try lvsNode(namespace, ["show", "--json"], "ha")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(asRoot.stdout.utf8)) as? [String: Any])
        #expect(document["generation"] as? Int == 1 && document["secrets_masked"] as? Bool == false, "\(asRoot)")
        #expect((document["spec"] as? String ?? "").contains("password: \"s3:cr'et\""), "\(asRoot)")

        let asNobody = try namespace.run(which("setpriv")!, ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                                                             lvsNodeBinary, "show", "--root", directory.file("ha/root"),
                                                             "--state-dir", directory.file("ha/state")])
        #expect(asNobody.status == 0, "\(asNobody)")
        #expect(!asNobody.stdout.contains("s3:cr") && asNobody.stdout.contains("password: \"********\""), "\(asNobody)")
        #expect(asNobody.stdout.contains("unicast-peers: [\"192.0.2.3\"]") && asNobody.stdout.contains("path: \"/health?a=1&b=%23\""), "\(asNobody)")
        #expect(asNobody.stderr.contains("printing it needs root"), "\(asNobody)")
        // Fed back, the masked spec is refused rather than setting the password to "********".
        let masked = try lvsNode(namespace, ["setup", "--config", "-"], "ha", input: asNobody.stdout)
        #expect(masked.status == 65 && masked.stderr.contains("the mask lvs-node show prints"), "\(masked)")
    }

    @Test func nothingInForceIsNoSpecAndAMissingGenerationIs65() throws {
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("empty/root"), withIntermediateDirectories: true)
        let none = try lvsNode(namespace, ["show"], "empty")
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.contains("nothing applied"), "\(none)")
        let missing = try lvsNode(namespace, ["show", "--generation", "4"], "empty")
        #expect(missing.status == 65 && missing.stderr.contains("there is no generation 4"), "\(missing)")
    }
}
