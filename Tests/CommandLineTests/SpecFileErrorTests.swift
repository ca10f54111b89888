import Foundation
import Testing
import TestSupport

/// Issue #12 findings 1, 4, 7 and 8 through the built binary: an error in a spec file names the file
/// and line (never a flag), whichever check finds it, and changes nothing.
@Suite final class SpecFileErrorTests {
    let directory = TemporaryDirectory()
    let namespace = NetworkNamespace.unavailableReason == nil ? try? NetworkNamespace() : nil

    deinit {
        namespace?.remove()
        directory.remove()
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func lvsNode(_ arguments: [String]) throws -> ProcessResult {
        let all = arguments + ["--root", directory.file("root"), "--state-dir", directory.file("state")]
        let namespace = try #require(namespace, "\(NetworkNamespace.unavailableReason ?? "no namespace")")
        return try namespace.run(lvsNodeBinary, all)
    }

    var nothingUnderTheRoot: Bool { !FileManager.default.fileExists(atPath: directory.file("root/etc")) }

    @Test func aRouteFromASpecFileWhoseGatewayIsUnreachableNamesTheFileLine() throws {
        let spec = try write("router.yaml", "role: router\nroutes:\n  - to: 198.51.100.0/24\n    via: 192.0.2.254\n")
        let result = try lvsNode(["plan", "--config", spec])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("\(spec) line 4 (routes[0].via): the gateway 192.0.2.254 is on no directly connected network"), "\(result)")
        #expect(!result.stderr.contains("--route"), "\(result)")
    }

    @Test func aNATRealServerSpecFileWithoutAGatewayIsADataErrorAtItsRole() throws {
        let spec = try write("nat.yaml", "mode: nat\nrole: realserver\n")
        let result = try lvsNode(["plan", "--config", spec])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("\(spec) line 2 (role): role realserver in mode nat needs the director's address as the default gateway; give gateway: DIP"), "\(result)")
        #expect(!result.stderr.contains("--gateway"), "\(result)")
    }

    @Test func theSameRouterAddressTwiceIsADataErrorBeforeAnyChange() throws {
        let result = try lvsNode(["setup", "--role", "router", "--address", "lo=203.0.113.200/24", "--address", "lo=203.0.113.200/24"])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("the address 203.0.113.200 on lo is listed twice"), "\(result)")
        #expect(!(try namespace!.ip(["-j", "address", "show", "dev", "lo"]).contains("203.0.113.200")))
        #expect(nothingUnderTheRoot)
    }

    @Test func anHAInterfaceKeepalivedCannotFindIsReportedAtTheHASectionWithTheRealPath() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "keepalived is not installed")
        let spec = try write("director.yaml", """
            role: director
            services:
              - vip: 192.0.2.10
                port: 80
                real-servers: [{address: 198.51.100.11}]
            ha:
              state: MASTER
              priority: 150
              interface: eth9
              virtual-router-id: 51
            """)
        let result = try lvsNode(["plan", "--config", spec])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.hasPrefix("error: \(spec) line 6 (ha): keepalived refuses the /etc/keepalived/keepalived.conf made from this spec"), "\(result)")
        #expect(result.stderr.contains("/usr/sbin/keepalived -t -f /etc/keepalived/keepalived.conf"), "\(result)")
        #expect(result.stderr.contains("interface eth9"), "\(result)")
        #expect(!result.stderr.contains("/tmp/lvs-node-check") && !result.stderr.contains("{file}"), "\(result)")
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1, "\(result)")
    }

    @Test func checkOnACloudConfigFilePointsAtTheCloudInitCommand() throws {
        let userData = try write("user-data.yaml", "#cloud-config\nlvs_node:\n  role: realserver\n  vips: [192.0.2.10]\n")
        let result = try runProcess(lvsNodeBinary, ["check", userData])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("lvs-node cloud-init --user-data \(userData)"), "\(result)")
        #expect(!result.stderr.contains("unknown key 'lvs_node'"), "\(result)")
    }

    @Test func checkReportsAnUnknownBlockKeyOnItsLineWithASuggestion() throws {
        let spec = try write("tun.yaml", "role: realserver\ntunn:\n  mss: 1400\n")
        let result = try runProcess(lvsNodeBinary, ["check", spec])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("\(spec) line 2: unknown key 'tunn' in the node spec; did you mean 'tun'?"), "\(result)")
    }
}
