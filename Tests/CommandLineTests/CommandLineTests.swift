import Foundation
import Testing
import TestSupport

/// The built binary with --root in a temporary folder: help, exit statuses, refusals. Every refusal
/// must come before the first change, and the tests check that nothing was even written under the
/// root. As root they still run in a fresh network namespace, so a broken check cannot reach the host.
@Suite final class CommandLineTests {
    let directory = TemporaryDirectory()
    let namespace = NetworkNamespace.unavailableReason == nil ? try? NetworkNamespace() : nil

    deinit {
        namespace?.remove()
        directory.remove()
    }

    func lvsNode(_ arguments: [String]) throws -> ProcessResult {
        let all = arguments + ["--root", directory.file("root"), "--state-dir", directory.file("state")]
        if let namespace { return try namespace.run(lvsNodeBinary, all) }
        return try runProcess(lvsNodeBinary, all)
    }

    var nothingWritten: Bool { directory.tree().isEmpty }

    @Test func helpDocumentsTheCommandsAndExitStatuses() throws {
        let help = try runProcess(lvsNodeBinary, ["--help"])
        #expect(help.status == 0)
        for word in ["setup", "plan", "status", "rollback", "history", "64", "65", "73", "74", "75", "77"] {
            #expect(help.stdout.contains(word), "\(word) missing from --help")
        }
        // No line of the status table wraps back to column 0.
        let table = help.stdout.components(separatedBy: "Exit statuses:\n").last?.components(separatedBy: "\n\n").first ?? ""
        #expect(!table.isEmpty && table.split(separator: "\n").allSatisfy { $0.hasPrefix("  ") }, "\(table)")
        let unknown = try runProcess(lvsNodeBinary, ["help", "bogus"])
        #expect(unknown.status == 64, "\(unknown)")
        #expect(unknown.stderr.contains("no such command 'bogus'"))
        let setup = try runProcess(lvsNodeBinary, ["setup", "--help"])
        for option in ["--root", "--state-dir", "--role", "--mode", "--vip", "--config", "--dry-run"] {
            #expect(setup.stdout.contains(option), "\(option) missing from setup --help")
        }
    }

    /// A thousand --vip flags mean what the same VIPs in a file mean (they skip argument-parser's
    /// quadratic handling of repeated options), and still conflict with --config.
    @Test func manyVIPFlagsPlanLikeTheSameVIPsInAFile() throws {
        let vips = (0..<1000).map { "198.18.\($0 / 250).\($0 % 250 + 1)" }
        let file = directory.file("spec.yaml")
        try ("role: realserver\npersist: none\ninit: none\nvips:\n" + vips.map { "  - \($0)\n" }.joined()).write(toFile: file, atomically: true, encoding: .utf8)
        let fromFlags = try lvsNode(["plan", "--role", "realserver", "--persist", "none", "--init", "none"] + vips.flatMap { ["--vip", $0] })
        let fromFile = try lvsNode(["plan", "--config", file])
        #expect(fromFlags.status == 2, "\(fromFlags.stderr)")
        #expect(fromFlags.stdout == fromFile.stdout)
        #expect(fromFlags.stdout.contains("+ address 198.18.3.250/32 on lo (label lo:999)"))
        let both = try lvsNode(["plan", "--config", file] + vips.prefix(20).flatMap { ["--vip=\($0)"] })
        #expect(both.status == 64, "\(both)")
    }

    /// `--config -` reads the spec from standard input, as configuration tools pipe it.
    @Test func theSpecCanComeFromStandardInput() throws {
        let spec = "role: realserver\npersist: none\ninit: none\nvips: [192.0.2.10]\n"
        let file = directory.file("spec.yaml")
        try spec.write(toFile: file, atomically: true, encoding: .utf8)
        let all = ["plan", "--config", "-", "--root", directory.file("root"), "--state-dir", directory.file("state")]
        let piped = try namespace.map { try $0.run(lvsNodeBinary, all, input: spec) } ?? runProcess(lvsNodeBinary, all, input: spec)
        #expect(piped.status == 2, "\(piped)")
        #expect(piped.stdout == (try lvsNode(["plan", "--config", file])).stdout)
        let broken = try namespace.map { try $0.run(lvsNodeBinary, all, input: "role: [\n") } ?? runProcess(lvsNodeBinary, all, input: "role: [\n")
        #expect(broken.status == 65 && broken.stderr.contains("standard input"), "\(broken)")
    }

    /// Whether the state survives a reboot is said in every plan, and a root with no boot path is warned about.
    @Test func thePlanSaysWhatBringsTheStateBackAfterAReboot() throws {
        let bare = try lvsNode(["plan", "--role", "realserver", "--vip", "192.0.2.10"])
        #expect(bare.stdout.contains("after a reboot: sysctl.d (persist none, init none)"), "\(bare)")
        #expect(bare.stdout.contains("warning: this host loses its VIPs at the next reboot"), "\(bare)")
        for directory in ["etc/netplan", "etc/systemd/system"] {
            try FileManager.default.createDirectory(atPath: self.directory.file("root/\(directory)"), withIntermediateDirectories: true)
        }
        let ubuntu = try lvsNode(["plan", "--role", "realserver", "--vip", "192.0.2.10"])
        #expect(ubuntu.stdout.contains("after a reboot: sysctl.d, netplan, a systemd unit running lvs-node start (persist netplan, init systemd)"), "\(ubuntu)")
        #expect(!ubuntu.stdout.contains("warning"), "\(ubuntu)")
    }

    @Test(arguments: [
        ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--bogus"],
        ["setup", "--vip", "192.0.2.10"],
        ["setup", "--config", "/x.yaml", "--vip", "192.0.2.10"],
        ["launch"],
    ])
    func usageErrorsExit64(arguments: [String]) throws {
        let result = try lvsNode(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(!result.stderr.isEmpty)
        #expect(nothingWritten)
    }

    /// A flag the role and mode need, left out, is a usage error; the same omission in a spec file is data (65).
    @Test(arguments: [
        (["--mode", "nat"], "--gateway"),
        (["--mode", "dr"], "--vip"),
        (["--mode", "tun"], "--vip"),
    ])
    func aRequiredFlagLeftOutIs64(extra: [String], flag: String) throws {
        for command in ["setup", "plan"] {
            let result = try lvsNode([command, "--role", "realserver"] + extra)
            #expect(result.status == 64, "\(result)")
            #expect(result.stderr.contains(flag), "\(result)")
        }
        let file = directory.file("nat.yaml")
        try "role: realserver\nmode: nat\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try lvsNode(["plan", "--config", file])
        #expect(fromFile.status == 65 && fromFile.stderr.contains("nat.yaml line 1"), "\(fromFile)")
        #expect(directory.tree().keys.sorted() == ["nat.yaml"])
    }

    @Test(arguments: [
        (["--vip", "192.0.2.256"], "'192.0.2.256' is not an IP address"),
        (["--vip", "127.0.0.2"], "loopback"),
        (["--vip", "192.0.2.10", "--vip", "192.0.2.10"], "listed twice"),
        (["--mode", "fullnat", "--vip", "192.0.2.10"], "has no mode 'fullnat'; its modes are: dr, tun, nat"),
        (["--vip", "192.0.2.10", "--gateway", "192.0.2.1"], "gateway (--gateway) is not used by role realserver in mode dr"),
        (["--mode", "tun", "--vip", "192.0.2.10", "--mss", "20"], "is not a TCP MSS"),
        (["--role", "router", "--route", "198.51.100.7/24 via 192.0.2.1"], "has host bits set; did you mean 198.51.100.0/24?"),
    ])
    func badDataExits65AndChangesNothing(extra: [String], message: String) throws {
        for command in ["setup", "plan"] {
            let result = try lvsNode([command, "--role", "realserver"] + extra)
            #expect(result.status == 65, "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
        }
        #expect(nothingWritten)
    }

    @Test func anUnknownRoleExits65() throws {
        let result = try lvsNode(["setup", "--role", "loadbalancer", "--vip", "192.0.2.10"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("unknown role 'loadbalancer'; the roles are: director, realserver, router"))
    }

    @Test func aBadSpecFileExits65NamingTheLine() throws {
        let file = directory.file("node.yaml")
        try "role: realserver\nvips:\n  - 192.0.2.10\ngatway: 192.0.2.1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try lvsNode(["setup", "--config", file])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(file) line 4: unknown key 'gatway'"))
        let missing = try lvsNode(["setup", "--config", directory.file("absent.yaml")])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("does not exist"))
    }

    @Test func theBinaryWorksCopiedAloneBecauseRolesAndTemplatesAreInside() throws {
        let copy = directory.file("elsewhere/lvs-node")
        try FileManager.default.createDirectory(atPath: directory.file("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: lvsNodeBinary, toPath: copy)
        let arguments = ["plan", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "netplan", "--init", "sysv",
                         "--root", directory.file("root"), "--state-dir", directory.file("state")]
        let result = try namespace.map { try $0.run(copy, arguments) } ?? runProcess(copy, arguments)
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout.contains("+ file /etc/netplan/60-lvs-node.yaml (mode 0600)"))
        #expect(result.stdout.contains("+ file /etc/init.d/lvs-node-realserver (mode 0755)"))
    }

    @Test func readOnlyCommandsOnAFreshRootSayThereIsNothing() throws {
        let status = try lvsNode(["status"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("nothing applied"))
        let history = try lvsNode(["history"])
        #expect(history.status == 0)
        #expect(history.stdout.contains("no generations"))
        #expect(nothingWritten)
    }

    /// Damaged state is 74 for every command, with what to do; nothing changes.
    @Test(arguments: [["status"], ["history"], ["rollback"], ["setup", "--role", "realserver", "--vip", "192.0.2.10"]])
    func aDamagedGenerationIs74(arguments: [String]) throws {
        let generations = directory.file("state/generations")
        try FileManager.default.createDirectory(atPath: generations, withIntermediateDirectories: true)
        try "format\t2\ngeneration\t1\ncreated\tx\n".write(toFile: generations + "/000001", atomically: true, encoding: .utf8)
        let before = directory.tree()
        let result = try lvsNode(arguments)
        #expect(result.status == 74, "\(result)")
        #expect(result.stderr.contains("generation 1") && result.stderr.contains("is damaged"), "\(result)")
        #expect(directory.tree().filter { $0.key != "state/lock" } == before, "only the lock may be new")
    }

    /// A state directory that is a regular file is 73 for every command, never 1, and nothing changes.
    @Test(arguments: [["setup", "--role", "realserver", "--vip", "192.0.2.10"], ["rollback"], ["status"], ["history"]])
    func aStateDirectoryThatIsAFileIs73(arguments: [String]) throws {
        let file = directory.file("state-file")
        try Data("not a directory\n".utf8).write(to: URL(fileURLWithPath: file))
        let all = arguments + ["--root", directory.file("root"), "--state-dir", file]
        let result = try namespace.map { try $0.run(lvsNodeBinary, all) } ?? runProcess(lvsNodeBinary, all)
        #expect(result.status == 73, "\(result)")
        #expect(result.stderr.contains("give --state-dir a directory"), "\(result)")
        #expect(directory.tree().keys.sorted() == ["state-file"])
    }
}

/// The director on a kernel without IPVS (the development and CI machines'): refused with the
/// missing feature named, before anything changes; and `check` of an HA pair.
@Suite final class DirectorCommandLineTests {
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

    static let ipvsMissing = !FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
        && !((try? String(contentsOfFile: "/proc/modules", encoding: .utf8))?.contains("ip_vs ") ?? false)
        && !FileManager.default.fileExists(atPath: "/sys/module/ip_vs")

    @Test(.enabled(if: ipvsMissing && NetworkNamespace.unavailableReason == nil, "needs a kernel without IPVS, and root for a namespace"))
    func aKernelWithoutIPVSIsRefusedWith69BeforeAnyChange() throws {
        let namespace = try #require(namespace)
        let spec = try write("d.yaml", "role: director\ninterface: lo\nservices: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 192.0.2.11}]}]\n")
        let before = try namespace.snapshot(sysctls: ["net.ipv4.conf.all.send_redirects"])
        let result = try namespace.run(lvsNodeBinary, ["setup", "--config", spec, "--root", directory.file("root"),
                                                       "--state-dir", directory.file("state")])
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("this host has no IPVS (the ip_vs module"), "\(result)")
        #expect(try namespace.snapshot(sysctls: ["net.ipv4.conf.all.send_redirects"]) == before)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory.file("root"))) == [])
        #expect(!FileManager.default.fileExists(atPath: directory.file("state")))
    }

    @Test func checkFindsABackupThatWouldOutrankItsMaster() throws {
        let pair = "role: director\nservices: [{vip: 192.0.2.10, port: 80}]\nha: {interface: eth0, virtual-router-id: 51, "
        let master = try write("master.yaml", pair + "state: MASTER, priority: 100}\n")
        let backup = try write("backup.yaml", pair + "state: BACKUP, priority: 150}\n")
        let result = try runProcess(lvsNodeBinary, ["check", master, backup])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("backup.yaml: this BACKUP has priority 150, not below the MASTER's 100"))
        let fixed = try write("backup.yaml", pair + "state: BACKUP, priority: 50}\n")
        let good = try runProcess(lvsNodeBinary, ["check", master, fixed])
        #expect(good.status == 0, "\(good)")
    }
}
