import Foundation
import HostAccess
import NodeModel
import Render
import Steps
import Testing
import TestSupport
@testable import Engine

/// Every shipped template rendered for a spec with several VIPs (IPv4 and IPv6), compared with the
/// files under Golden/. Set LVS_NODE_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, and
/// read the diff.
@Suite struct TemplateGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    let shipped = TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil }

    /// Path → rendered file for a realserver with three VIPs.
    func files(persist: String, initSystem: String, renderer: TemplateRenderer? = nil) throws -> [String: String] {
        let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
        let (spec, role) = try SpecInput.fromFlags(role: "realserver", mode: nil,
                                                   vips: ["192.0.2.10", "192.0.2.11", "2001:db8::10", "198.51.100.7"],
                                                   persist: persist, initSystem: initSystem).resolve(with: catalog)
        let kernel = FakeKernel()
        let steps = try StepBuilder(spec: spec, previous: [], host: HostView(addresses: kernel, links: kernel, routes: kernel, packetFilter: kernel), renderer: renderer ?? shipped,
                                    context: RenderContext(binary: "/usr/local/sbin/lvs-node", root: "/", stateDirectory: "/var/lib/lvs-node"))
            .desiredSteps(for: role)
        var result: [String: String] = [:]
        for step in steps where step.kind == FileDriver.kindName {
            for desired in step.desired { result[desired.subject] = desired.state }
        }
        return result
    }

    /// Compares a file state's content with its golden file and checks its mode.
    func check(_ state: String?, against name: String, mode: String = "0644") throws {
        let whole = try #require(state)
        let newline = try #require(whole.firstIndex(of: "\n"))
        #expect(whole[..<newline] == "file \(mode)", "\(name) mode")
        let rendered = String(whole[whole.index(after: newline)...])
        let url = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LVS_NODE_UPDATE_GOLDEN"] != nil {
            try rendered.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(rendered == expected, "\(name) differs from its golden file")
    }

    @Test func netplanAndSystemdFiles() throws {
        let files = try files(persist: "netplan", initSystem: "systemd")
        try check(files["/etc/sysctl.d/90-lvs-node.conf"], against: "sysctl.conf")
        try check(files["/etc/netplan/60-lvs-node.yaml"], against: "netplan-vips.yaml", mode: "0600")
        try check(files["/etc/systemd/system/lvs-node-realserver.service"], against: "lvs-node.service")
        #expect(files["/etc/systemd/system/multi-user.target.wants/lvs-node-realserver.service"]
                == "link /etc/systemd/system/lvs-node-realserver.service")
    }

    @Test func ifcfgAndSysVFiles() throws {
        let files = try files(persist: "ifcfg", initSystem: "sysv")
        try check(files["/etc/sysconfig/network-scripts/ifcfg-lo:0"], against: "ifcfg-lo:0")
        try check(files["/etc/sysconfig/network-scripts/ifcfg-lo:2"], against: "ifcfg-lo:2")
        #expect(files.keys.filter { $0.contains("ifcfg-") }.count == 3, "one ifcfg file per IPv4 VIP")
        try check(files["/etc/init.d/lvs-node-realserver"], against: "lvs-node.init", mode: "0755")
        #expect(files["/etc/rc2.d/S20lvs-node-realserver"] == "link ../init.d/lvs-node-realserver")
        #expect(files["/etc/rc6.d/K80lvs-node-realserver"] == "link ../init.d/lvs-node-realserver")
    }

    @Test func anOperatorTemplateReplacesTheShippedOne() throws {
        let custom = TemplateRenderer(overrideDirectory: "/etc/lvs-node/templates") { path in
            path == "/etc/lvs-node/templates/sysctl.conf.mustache" ? "# site\n{{#sysctls}}{{name}}={{value}}\n{{/sysctls}}" : nil
        }
        let files = try files(persist: "none", initSystem: "none", renderer: custom)
        #expect(files["/etc/sysctl.d/90-lvs-node.conf"]?.hasPrefix("file 0644\n# site\nnet.ipv4.conf.all.arp_ignore=1\n") == true)
    }

    @Test func theDiffShowsOnlyWhatChanged() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 5\n", with: "line five\n") + "line 11\n"
        #expect(UnifiedDiff.lines(from: old, to: new, oldName: "a/f", newName: "b/f") == [
            "--- a/f", "+++ b/f",
            "@@ -2,9 +2,10 @@",
            " line 2", " line 3", " line 4", "-line 5", "+line five", " line 6", " line 7", " line 8", " line 9", " line 10", "+line 11",
        ])
        #expect(UnifiedDiff.lines(from: old, to: old, oldName: "a", newName: "b").isEmpty)
    }
}
