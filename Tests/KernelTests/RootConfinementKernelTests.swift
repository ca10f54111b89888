import Foundation
import Testing
import TestSupport

/// The built binary never reads, writes, creates or removes anything outside `--root`, whatever links
/// are pre-placed under it, and `--force` replaces only what rollback can put back. Each run is in a
/// fresh network namespace; "outside" is a folder beside the root that must stay exactly as it was.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class RootConfinementKernelTests {
    let namespace: NetworkNamespace
    let directory = TemporaryDirectory()
    static let sysctls = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                          "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce"]

    init() throws {
        namespace = try NetworkNamespace()
        // A systemd host with netplan, as auto-detection would see it.
        for path in ["etc/netplan", "etc/sysctl.d", "etc/systemd/system/multi-user.target.wants"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(path)", withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "not lvs-node's\n".write(toFile: outside + "/keep", atomically: false, encoding: .utf8)
    }

    deinit {
        namespace.remove()
        directory.remove()
    }

    var root: String { directory.file("root") }
    var outside: String { directory.file("outside") }

    func setup(_ extra: [String] = []) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "netplan",
                                          "--init", "systemd", "--root", root, "--state-dir", directory.file("state")] + extra)
    }

    /// Every entry below a folder with its type and content, links not followed.
    func listing(_ folder: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: folder) {
            let path = "\(folder)/\(name)"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let type = attributes[.type] as? FileAttributeType
            switch type {
            case .typeRegular?: result[name] = "file " + (try String(contentsOfFile: path, encoding: .utf8))
            case .typeSymbolicLink?: result[name] = "link " + (try FileManager.default.destinationOfSymbolicLink(atPath: path))
            default: result[name] = "\(type?.rawValue ?? "?")"
            }
        }
        return result
    }

    func vips() throws -> [String] {
        try namespace.addresses(device: "lo").map(\.local).filter { !["127.0.0.1", "::1"].contains($0) }
    }

    @Test(arguments: ["etc/netplan", "etc/sysctl.d", "etc/systemd/system/multi-user.target.wants"], [true, false])
    func aSymlinkedDirectoryOnTheWayIsRefusedAndNothingIsWrittenOutsideTheRoot(linked: String, absolute: Bool) throws {
        try FileManager.default.removeItem(atPath: "\(root)/\(linked)")
        let climb = String(repeating: "../", count: linked.split(separator: "/").count) + "outside"
        try FileManager.default.createSymbolicLink(atPath: "\(root)/\(linked)", withDestinationPath: absolute ? outside : climb)
        #expect(FileManager.default.fileExists(atPath: "\(root)/\(linked)/keep"), "the link leads outside")
        let outsideBefore = try listing(outside)
        let hostBefore = try namespace.snapshot(sysctls: Self.sysctls)

        let result = try setup()

        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains("\(root)/\(linked)"), "the refusal names the link: \(result)")
        #expect(result.stderr.contains("symlink"), "\(result)")
        #expect(try listing(outside) == outsideBefore, "nothing written outside the root")
        #expect(try namespace.snapshot(sysctls: Self.sysctls) == hostBefore, "refused before any change")
    }

    @Test func aHardLinkAtTheTemporaryPathLeavesTheFileItPointsToUnchanged() throws {
        let target = outside + "/keep"
        try FileManager.default.linkItem(atPath: target, toPath: root + "/etc/sysctl.d/90-lvs-node.conf.lvs-node-tmp")
        try FileManager.default.linkItem(atPath: target, toPath: root + "/etc/netplan/60-lvs-node.yaml.lvs-node-tmp")

        let result = try setup()

        #expect(result.status == 0, "\(result)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "not lvs-node's\n")
        #expect(try String(contentsOfFile: root + "/etc/sysctl.d/90-lvs-node.conf", encoding: .utf8).contains("arp_ignore"))
        #expect(try listing(root).keys.filter { $0.hasSuffix(".lvs-node-tmp") } == [], "no temporary file left")
        #expect(try vips() == ["192.0.2.10"])
    }

    @Test func aSymlinkAtTheTemporaryPathIsReplacedNotFollowed() throws {
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/sysctl.d/90-lvs-node.conf.lvs-node-tmp",
                                                   withDestinationPath: outside + "/keep")
        let result = try setup()
        #expect(result.status == 0, "\(result)")
        #expect(try listing(outside) == ["keep": "file not lvs-node's\n"])
    }

    @Test(arguments: ["a FIFO", "a directory"])
    func forceOverWhatRollbackCouldNotPutBackIsRefusedBeforeAnyChange(what: String) throws {
        let target = root + "/etc/netplan/60-lvs-node.yaml"
        if what == "a FIFO" {
            #expect(mkfifo(target, 0o644) == 0)
        } else {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        }
        let rootBefore = try listing(root)
        let hostBefore = try namespace.snapshot(sysctls: Self.sysctls)

        for command in [["plan"], ["setup", "--force"]] {
            let result = try namespace.run(lvsNodeBinary, command + ["--role", "realserver", "--vip", "192.0.2.10", "--persist", "netplan",
                                                                     "--init", "systemd", "--root", root, "--state-dir", directory.file("state")])
            #expect(result.status == 65, "\(command): \(result)")
            #expect(result.stderr.contains("\(target): is \(what)"), "\(result)")
        }
        #expect(try listing(root) == rootBefore, "the root is unchanged")
        #expect(try namespace.snapshot(sysctls: Self.sysctls) == hostBefore, "the host is unchanged")
    }

    @Test func theCloudInitLogIsNotWrittenThroughALinkedLogDirectory() throws {
        try FileManager.default.createDirectory(atPath: root + "/var", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/var/log", withDestinationPath: outside)
        let userData = directory.file("user-data")
        try "#cloud-config\nruncmd: [[true]]\n".write(toFile: userData, atomically: false, encoding: .utf8)

        let result = try namespace.run(lvsNodeBinary, ["cloud-init", "--user-data", userData, "--root", root,
                                                       "--state-dir", directory.file("state")])

        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("nothing to do"), "\(result)")
        #expect(try listing(outside) == ["keep": "file not lvs-node's\n"])
    }

    /// CentOS 6 keeps its scripts in /etc/rc.d and links /etc/init.d and /etc/rcN.d there: links that
    /// stay beneath the root are followed.
    @Test func aCentOSStyleRootGetsItsInitScriptThroughItsRelativeLinks() throws {
        try FileManager.default.createDirectory(atPath: root + "/etc/rc.d/init.d", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/init.d", withDestinationPath: "rc.d/init.d")
        for level in 0...6 {
            try FileManager.default.createDirectory(atPath: root + "/etc/rc.d/rc\(level).d", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/etc/rc\(level).d", withDestinationPath: "rc.d/rc\(level).d")
        }
        let result = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "none",
                                                       "--init", "sysv", "--root", root, "--state-dir", directory.file("state")])
        #expect(result.status == 0, "\(result)")
        #expect(FileManager.default.isExecutableFile(atPath: root + "/etc/rc.d/init.d/lvs-node-realserver"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/rc.d/rc3.d/S20lvs-node-realserver")
                .hasSuffix("init.d/lvs-node-realserver"))
        let rollback = try namespace.run(lvsNodeBinary, ["rollback", "--root", root, "--state-dir", directory.file("state")])
        #expect(rollback.status == 0, "\(rollback)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/etc/rc.d/init.d") == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/etc/rc.d/rc3.d") == [])
    }
}
