import Foundation
import Testing
import TestSupport

/// What setup writes to survive a reboot, checked by the programs that read it at boot (netplan,
/// systemd-analyze, sh, bash, sysctl), and the boot path itself run in a second, brand-new namespace.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class PersistenceKernelTests {
    let directory = TemporaryDirectory()
    var namespaces: [NetworkNamespace] = []
    static let vips = ["192.0.2.10", "192.0.2.11", "2001:db8::10", "198.51.100.7"]
    static let sysctls = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                          "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce"]

    deinit {
        namespaces.forEach { $0.remove() }
        directory.remove()
    }

    var root: String { directory.file("root") }

    func namespace() throws -> NetworkNamespace {
        let created = try NetworkNamespace()
        namespaces.append(created)
        return created
    }

    @discardableResult
    func setup(in namespace: NetworkNamespace, persist: String, initSystem: String, extra: [String] = []) throws -> ProcessResult {
        let result = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver", "--persist", persist, "--init", initSystem,
                                                       "--root", root, "--state-dir", directory.file("state")]
                                                       + Self.vips.flatMap { ["--vip", $0] } + extra)
        #expect(result.status == 0, "\(result)")
        return result
    }

    func file(_ path: String) throws -> String { try String(contentsOfFile: root + path, encoding: .utf8) }

    /// Addresses on lo other than the loopback ones, as `address/prefix label`.
    func vipState(_ namespace: NetworkNamespace) throws -> [String] {
        try namespace.addresses(device: "lo").filter { !["127.0.0.1", "::1"].contains($0.local) }
            .map { "\($0.local)/\($0.prefixLength) \($0.label ?? "")" }.sorted()
    }

    func sysctlState(_ namespace: NetworkNamespace) throws -> [String] {
        try Self.sysctls.map { "\($0)=\(try namespace.sysctl($0))" }
    }

    @Test func netplanRendersEveryVIPWithItsLabel() throws {
        let netplan = try #require(which("netplan"), "netplan.io is installed by .ci/run")
        try setup(in: try namespace(), persist: "netplan", initSystem: "none")
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/etc/netplan/60-lvs-node.yaml")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let generate = try runProcess(netplan, ["generate", "--root-dir", root])
        #expect(generate.status == 0, "\(generate)")
        let network = try file("/run/systemd/network/10-netplan-lo.network")
        for (address, label) in [("192.0.2.10/32", "lo:0"), ("192.0.2.11/32", "lo:1"), ("198.51.100.7/32", "lo:2")] {
            #expect(network.contains("[Address]\nAddress=\(address)\nLabel=\(label)\n"), "\(address) in\n\(network)")
        }
        #expect(network.contains("Address=2001:db8::10/128"))
    }

    @Test func theSysctlDropInAppliesInAFreshNamespace() throws {
        try setup(in: try namespace(), persist: "none", initSystem: "none")
        let fresh = try namespace()
        let sysctl = try #require(which("sysctl"), "procps")
        let result = try fresh.run(sysctl, ["-p", root + "/etc/sysctl.d/90-lvs-node.conf"])
        #expect(result.status == 0, "\(result)")
        #expect(try sysctlState(fresh) == ["net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2",
                                           "net.ipv4.conf.lo.arp_ignore=1", "net.ipv4.conf.lo.arp_announce=2"])
    }

    @Test func ifcfgFilesReadAsTheNetworkScriptsReadThem() throws {
        try setup(in: try namespace(), persist: "ifcfg", initSystem: "none")
        for (label, address) in [("lo:0", "192.0.2.10"), ("lo:1", "192.0.2.11"), ("lo:2", "198.51.100.7")] {
            let path = root + "/etc/sysconfig/network-scripts/ifcfg-\(label)"
            let read = try runProcess("/bin/bash", ["-c", ". \"$1\" && echo \"$DEVICE $IPADDR $NETMASK $ONBOOT\"", "bash", path])
            #expect(read.stdout == "\(label) \(address) 255.255.255.255 yes\n", "\(read)")
        }
    }

    @Test func theSystemdUnitVerifiesAndItsExecStartBringsTheStateBackAfterAReboot() throws {
        let analyze = try #require(which("systemd-analyze"), "systemd is installed by .ci/run")
        let first = try namespace()
        try setup(in: first, persist: "none", initSystem: "systemd")
        let unitPath = root + "/etc/systemd/system/lvs-node-realserver.service"
        let verify = try runProcess(analyze, ["verify", unitPath])
        #expect(verify.status == 0, "\(verify)")
        let wants = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/systemd/system/multi-user.target.wants/lvs-node-realserver.service")
        #expect(wants == "/etc/systemd/system/lvs-node-realserver.service")

        // The "reboot": a brand-new namespace with the same root runs only the unit's commands.
        let unit = try file("/etc/systemd/system/lvs-node-realserver.service")
        let start = try Self.command(unit, key: "ExecStart"), stop = try Self.command(unit, key: "ExecStop")
        let rebooted = try namespace()
        let before = try rebooted.snapshot(sysctls: Self.sysctls)
        let started = try rebooted.run(start[0], Array(start.dropFirst()))
        #expect(started.status == 0, "\(started)")
        #expect(try vipState(rebooted) == vipState(first))
        #expect(try sysctlState(rebooted) == sysctlState(first))
        let stopped = try rebooted.run(stop[0], Array(stop.dropFirst()))
        #expect(stopped.status == 0, "\(stopped)")
        #expect(try rebooted.snapshot(sysctls: Self.sysctls) == before)
    }

    @Test func theSysVScriptPassesShAndItsStartAndStopWork() throws {
        let first = try namespace()
        try setup(in: first, persist: "none", initSystem: "sysv")
        let script = root + "/etc/init.d/lvs-node-realserver"
        #expect(try runProcess("/bin/sh", ["-n", script]).status == 0)
        #expect(FileManager.default.isExecutableFile(atPath: script))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/rc2.d/S20lvs-node-realserver") == "../init.d/lvs-node-realserver")
        let rebooted = try namespace()
        let before = try rebooted.snapshot(sysctls: Self.sysctls)
        #expect(try rebooted.run("/bin/sh", [script, "status"]).status == 3)
        let started = try rebooted.run("/bin/sh", [script, "start"])
        #expect(started.status == 0, "\(started)")
        #expect(try vipState(rebooted) == vipState(first))
        #expect(try sysctlState(rebooted) == sysctlState(first))
        #expect(try rebooted.run("/bin/sh", [script, "status"]).status == 0)
        #expect(try rebooted.run("/bin/sh", [script, "stop"]).status == 0)
        #expect(try rebooted.snapshot(sysctls: Self.sysctls) == before)
    }

    @Test func rollbackLeavesTheRootTreeByteForByteAsBefore() throws {
        // A host with files of its own at lvs-node's paths, one of them not UTF-8, one a symlink.
        let etc = root + "/etc"
        for directory in ["netplan", "sysctl.d", "systemd/system", "elsewhere"] {
            try FileManager.default.createDirectory(atPath: "\(etc)/\(directory)", withIntermediateDirectories: true)
        }
        try Data([0x23, 0x20, 0xff, 0xfe, 0x00, 0x0a]).write(to: URL(fileURLWithPath: etc + "/sysctl.d/90-lvs-node.conf"))
        try "network: {version: 2}\n".write(toFile: etc + "/elsewhere/real.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: etc + "/netplan/60-lvs-node.yaml", withDestinationPath: "../elsewhere/real.yaml")
        let before = directory.tree()
        let space = try namespace()

        let refused = try space.run(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "netplan",
                                                    "--init", "systemd", "--root", root, "--state-dir", directory.file("state")])
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("/etc/sysctl.d/90-lvs-node.conf: exists and was not written by lvs-node"))
        #expect(refused.stderr.contains("/etc/netplan/60-lvs-node.yaml: exists"))
        #expect(directory.tree() == before)
        #expect(try vipState(space).isEmpty)

        try setup(in: space, persist: "netplan", initSystem: "systemd", extra: ["--force"])
        #expect(try String(contentsOfFile: etc + "/elsewhere/real.yaml", encoding: .utf8) == "network: {version: 2}\n",
                "the symlink was replaced, not written through")
        #expect(try file("/etc/netplan/60-lvs-node.yaml").contains("192.0.2.10/32"))
        let rollback = try space.run(lvsNodeBinary, ["rollback", "--root", root, "--state-dir", directory.file("state")])
        #expect(rollback.status == 0, "\(rollback)")
        #expect(directory.tree().filter { !$0.key.hasPrefix("state/") } == before)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: etc + "/netplan/60-lvs-node.yaml") == "../elsewhere/real.yaml")
    }

    /// The netplan file is 0600 (netplan insists) but holds no secret: its diff is what needs review.
    @Test func planShowsThePrivateNetplanFilesDiff() throws {
        let space = try namespace()
        try setup(in: space, persist: "netplan", initSystem: "none")
        let plan = try space.run(lvsNodeBinary, ["plan", "--role", "realserver", "--persist", "netplan", "--init", "none",
                                                 "--root", root, "--state-dir", directory.file("state"),
                                                 "--vip", "192.0.2.10", "--vip", "192.0.2.11", "--vip", "2001:db8::10", "--vip", "198.51.100.7",
                                                 "--vip", "203.0.113.5"])
        #expect(plan.status == 2)
        #expect(plan.stdout.contains("~ file /etc/netplan/60-lvs-node.yaml (mode 0600)"))
        #expect(plan.stdout.contains("    +        - \"203.0.113.5/32\":\n    +            label: \"lo:3\"\n"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("not shown"), "\(plan.stdout)")
    }

    /// A unit's command line split as systemd does for these simple quoted words.
    static func command(_ unit: String, key: String) throws -> [String] {
        let line = try #require(unit.split(separator: "\n").first { $0.hasPrefix("\(key)=") })
        var words: [String] = [], current = "", quoted = false
        for character in line.dropFirst(key.count + 1) {
            if character == "\"" { quoted.toggle(); continue }
            if character == " " && !quoted { if !current.isEmpty { words.append(current) }; current = ""; continue }
            current.append(character)
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
