import Foundation
import Testing
import TestSupport

/// `lvs-node cloud-init` as cloud-init runs it, in a fresh namespace, with the user-data where
/// cloud-init keeps it under the root; and the README's examples checked by cloud-init's own schema.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class CloudInitKernelTests {
    let directory = TemporaryDirectory()
    let namespace: NetworkNamespace

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    var root: String { directory.file("root") }

    func cloudInit(_ extra: [String] = []) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, ["cloud-init", "--root", root, "--state-dir", directory.file("state")] + extra)
    }

    func writeUserData(_ text: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/var/lib/cloud/instance", withIntermediateDirectories: true)
        try text.write(toFile: root + "/var/lib/cloud/instance/user-data.txt", atomically: true, encoding: .utf8)
    }

    /// The router example's hook runs at every boot: on a fresh host (eth1 without an address) it must
    /// apply, and the next boot must change nothing.
    @Test func theRouterExampleAppliesOnAFreshHostAndEveryBootAfter() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/cloud-init").standardized
        let peer = try NetworkNamespace()
        defer { peer.remove() }
        let veth = try runProcess(which("ip")!, ["link", "add", "eth1", "netns", namespace.name, "type", "veth", "peer", "name", "eth0", "netns", peer.name])
        #expect(veth.status == 0, "\(veth)")
        try namespace.ip(["link", "set", "eth1", "up"])
        let userData = examples.appendingPathComponent("router.yaml").path
        let first = try cloudInit(["--user-data", userData])
        #expect(first.status == 0, "\(first)")
        let route = try namespace.ip(["-j", "route", "show", "198.51.100.0/24"])
        #expect(route.contains("\"gateway\":\"203.0.113.1\"") && route.contains("\"dev\":\"eth1\""), "\(route)")
        let again = try cloudInit(["--user-data", userData])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("no changes needed"), "\(again)")
    }

    /// Terraform's cloudinit_config with gzip = true: the user-data cloud-init stores is gzip-compressed.
    @Test(.enabled(if: which("gzip") != nil, "needs gzip to make the compressed user-data"))
    func gzipCompressedUserDataIsApplied() throws {
        let plain = directory.file("user-data")
        try "#cloud-config\nlvs_node:\n  role: realserver\n  vips: [192.0.2.10]\n  persist: none\n  init: none\n"
            .write(toFile: plain, atomically: true, encoding: .utf8)
        let compressed = try runProcess(which("gzip")!, ["-9", "-k", plain])
        #expect(compressed.status == 0, "\(compressed)")
        let applied = try cloudInit(["--user-data", plain + ".gz"])
        #expect(applied.status == 0, "\(applied)")
        #expect(try namespace.addresses(device: "lo").contains { $0.local == "192.0.2.10" && $0.label == "lo:0" })
    }

    @Test func everyBootIsSafeAndTheHookComesAndGoesWithTheGeneration() throws {
        try writeUserData("#cloud-config\nlvs_node:\n  role: realserver\n  vips: [192.0.2.10]\n  persist: none\n  init: none\n")
        let first = try cloudInit(["--install-hook"])
        #expect(first.status == 0, "\(first)")
        #expect(try namespace.addresses(device: "lo").contains { $0.local == "192.0.2.10" && $0.label == "lo:0" })
        #expect(try namespace.sysctl("net.ipv4.conf.all.arp_ignore") == "1")
        let hook = root + "/var/lib/cloud/scripts/per-boot/lvs-node"
        #expect(FileManager.default.isExecutableFile(atPath: hook))
        #expect(try runProcess("/bin/sh", ["-n", hook]).status == 0)

        // The next boot: the hook itself runs, and nothing changes.
        let again = try namespace.run("/bin/sh", [hook])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("no changes needed"))
        let log = try String(contentsOfFile: root + "/var/log/lvs-node.log", encoding: .utf8)
        #expect(log.contains("applied generation 1") && log.contains("no changes needed"))

        let rollback = try namespace.run(lvsNodeBinary, ["rollback", "--root", root, "--state-dir", directory.file("state")])
        #expect(rollback.status == 0)
        #expect(!FileManager.default.fileExists(atPath: hook))
    }

    @Test func aBadSpecFailsTheModuleAndChangesNothing() throws {
        try writeUserData("#cloud-config\nlvs_node:\n  role: realserver\n  vips: [127.0.0.9]\n")
        let before = try namespace.snapshot(sysctls: ["net.ipv4.conf.all.arp_ignore"])
        let result = try cloudInit()
        #expect(result.status == 65, "\(result)")
        #expect(try namespace.snapshot(sysctls: ["net.ipv4.conf.all.arp_ignore"]) == before)
        let log = try String(contentsOfFile: root + "/var/log/lvs-node.log", encoding: .utf8)
        #expect(log.contains("127.0.0.9 cannot be a VIP"))
    }

    @Test func userDataWithoutTheKeyIsANoOp() throws {
        try writeUserData("#cloud-config\npackages: [curl]\n")
        let result = try cloudInit()
        #expect(result.status == 0)
        #expect(result.stdout.contains("nothing to do"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("state")))
    }

    @Test func theReadmeExamplesPassCloudInitsSchema() throws {
        let cloudInit = try #require(which("cloud-init"), "cloud-init is installed by .ci/run")
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/cloud-init").standardized
        for file in try FileManager.default.contentsOfDirectory(atPath: examples.path) where file.hasSuffix(".yaml") {
            let result = try runProcess(cloudInit, ["schema", "--config-file", examples.appendingPathComponent(file).path])
            #expect(result.status == 0, "\(file): \(result)")
        }
    }
}
