import Foundation
import HostAccess
import NodeModel
import Render
@testable import Steps
import Testing
import TestSupport

/// The other side of refusing hostile values (issue #11 finding 9): the legal values at the edges of
/// what ValueSyntax allows still render into a keepalived.conf that keepalived accepts, each value
/// whole on its own line. keepalived -t checks that the interfaces exist, so they are made (veth
/// pairs) in a fresh network namespace and keepalived runs there. The file is rendered from the
/// template with the director's values directly: the role's sysctl step cannot yet take a VLAN name
/// (`net.ipv4.conf.eth0.100.send_redirects` is read as a path eth0/100).
@Suite(.enabled(if: which("keepalived") != nil && NetworkNamespace.unavailableReason == nil,
                "needs keepalived (installed by .ci/run) and root for a network namespace"))
struct DirectorEdgeValueTests {
    func keepalivedConf(interface: String, password: String, path: String) throws -> String {
        let yaml = """
            role: director
            persist: none
            init: none
            services:
              - {vip: 192.0.2.10, port: 80, check: {type: http, path: "\(path)"}, real-servers: [{address: 198.51.100.11}]}
            ha: {state: MASTER, priority: 150, interface: \(interface), virtual-router-id: 51, password: "\(password)"}
            """
        let (spec, _) = try SpecInput.fromYAML(yaml, source: "edge.yaml").resolve(with: RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil })
        let values = DirectorTemplateValues.values(spec).merging(["role": spec.role, "mode": spec.mode]) { $1 }
        return try TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil }.render("keepalived.conf", values)
    }

    @Test(arguments: [
        ("eth0.100", "Ab1-_~%&", "/health?x=1&y=%23"),
        ("en-0_a", "'()*+,./", "/a/b.c-d_e~f(g)h*i+j,k;l=m:n@o"),
        ("abcdefghijklm", "z", "/"),
    ])
    func anEdgeValueRendersWholeAndKeepalivedAcceptsIt(interface: String, password: String, path: String) throws {
        let content = try keepalivedConf(interface: interface, password: password, path: path)
        let lines = content.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("interface \(interface)"))
        #expect(lines.contains("auth_pass \(password)"))
        #expect(lines.contains("path \(path)"))

        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        try namespace.ip(["link", "add", interface, "type", "veth", "peer", "name", "peer0"])
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try content.write(toFile: directory.file("keepalived.conf"), atomically: true, encoding: .utf8)
        let check = try namespace.run(try #require(which("keepalived")), ["-t", "-f", directory.file("keepalived.conf")])
        #expect(check.status == 0, "\(check)")
    }

    /// A 15-byte interface is a legal name, but keepalived's label for the first VIP (`NAME:0`) would
    /// not be: keepalived -t drops the address and exits 5.
    @Test func anInterfaceTooLongToLabelTheVIPsIsRefused() {
        #expect {
            try keepalivedConf(interface: "abcdefghijklmno", password: "z", path: "/")
        } throws: { "\($0)".contains("keepalived labels the IPv4 VIPs abcdefghijklmno:0 to abcdefghijklmno:0, longer than the 15 bytes") }
    }
}
