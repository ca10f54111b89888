import Foundation
import Testing
import TestSupport

/// `rollback --to N` and `rollback --all` with the real binary in a fresh network namespace: the host
/// read back with `ip -j` and /proc/sys, the files under --root compared byte for byte.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class RollbackHistoryKernelTests {
    let namespace: NetworkNamespace
    let directory = TemporaryDirectory()
    static let sysctls = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                          "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce"]

    init() throws {
        namespace = try NetworkNamespace()
        // A host with systemd's unit directory and something of its own in /etc.
        try FileManager.default.createDirectory(atPath: directory.file("root/etc/systemd/system"), withIntermediateDirectories: true)
        try "kernel.printk = 4\n".write(toFile: directory.file("root/etc/sysctl.conf"), atomically: true, encoding: .utf8)
    }

    deinit {
        namespace.remove()
        directory.remove()
    }

    @discardableResult
    func lvsNode(_ arguments: [String]) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, arguments + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
    }

    /// The live state and every entry under the root (directories, files with their bytes and mode, links).
    struct HostState: Equatable, CustomStringConvertible {
        let live: NetworkNamespace.Snapshot
        let files: [String: String]
        var description: String { "\(live)\n\(files.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.prefix(60))" }.joined(separator: "\n"))" }
    }

    func state(_ top: String = "root") throws -> HostState {
        var files: [String: String] = [:]
        let base = directory.file(top)
        for name in (FileManager.default.enumerator(atPath: base)?.allObjects as? [String]) ?? [] {
            let path = "\(base)/\(name)"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = String((attributes[.posixPermissions] as? Int) ?? 0, radix: 8)
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?: files[name] = "directory \(mode)"
            case .typeSymbolicLink?: files[name] = "link \(try FileManager.default.destinationOfSymbolicLink(atPath: path))"
            default: files[name] = "file \(mode) " + (FileManager.default.contents(atPath: path) ?? Data()).base64EncodedString()
            }
        }
        return HostState(live: try namespace.snapshot(sysctls: Self.sysctls), files: files)
    }

    /// Three generations that differ in VIPs, sysctl files and the boot unit.
    func threeSetups() throws -> (before: HostState, afterFirst: HostState) {
        let before = try state()
        #expect(try lvsNode(["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "none"]).status == 0)
        let afterFirst = try state()
        #expect(try lvsNode(["setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11", "--persist", "none", "--init", "systemd"]).status == 0)
        #expect(try lvsNode(["setup", "--role", "realserver", "--vip", "192.0.2.12", "--persist", "none", "--init", "systemd"]).status == 0)
        #expect(try namespace.addresses(device: "lo").contains { $0.local == "192.0.2.12" })
        return (before, afterFirst)
    }

    @Test func rollbackToOneLeavesExactlyTheStateRightAfterGenerationOne() throws {
        let (_, afterFirst) = try threeSetups()
        let result = try lvsNode(["rollback", "--to", "1"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("rolled back generations 3, 2"), "\(result)")
        #expect(try state() == afterFirst)
        let history = try lvsNode(["history"]).stdout.split(separator: "\n")
        #expect(history.first?.contains("  applied  ") == true, "\(history)")
        #expect(history.dropFirst().prefix(2).allSatisfy { $0.contains("rolled back") }, "\(history)")
        #expect(try lvsNode(["status"]).status == 0)
        #expect(try lvsNode(["rollback", "--to", "1"]).stdout.contains("nothing to roll back"))
    }

    @Test func rollbackAllLeavesTheHostByteForByteAsBeforeLVSNode() throws {
        let (before, _) = try threeSetups()
        let result = try lvsNode(["rollback", "--all"])
        #expect(result.status == 0, "\(result)")
        #expect(try state() == before)
        #expect(try lvsNode(["status"]).stdout.contains("nothing applied"))
    }

    @Test func aDryRunPrintsThePlanAndChangesNothing() throws {
        _ = try threeSetups()
        let before = try state()
        let stateDirectory = try state("state").files
        for arguments in [["rollback", "--all", "--dry-run"], ["rollback", "--to", "1", "--dry-run"], ["rollback", "--dry-run"]] {
            let result = try lvsNode(arguments)
            #expect(result.status == 2, "\(arguments): \(result)")
            #expect(result.stdout.contains("- address 192.0.2.12/32 on lo (label lo:"), "\(result)")
        }
        let all = try lvsNode(["rollback", "--all", "--dry-run"]).stdout
        // Planned against the host as the newer undos leave it: 192.0.2.11 comes back with generation
        // 3's undo and goes with generation 2's; 192.0.2.10 goes last, with generation 1's.
        #expect(all.contains("generation 3:\n") && all.contains("generation 2:\n") && all.contains("generation 1:\n"), "\(all)")
        #expect(all.contains("- address 192.0.2.11/32"), "\(all)")
        #expect(all.contains("- address 192.0.2.10/32"), "\(all)")
        #expect(try state() == before)
        #expect(try state("state").files == stateDirectory)
    }

    @Test func aGenerationNotInForceIsRefusedAndNothingChanges() throws {
        _ = try threeSetups()
        #expect(try lvsNode(["rollback"]).status == 0)
        let before = try state()
        for target in ["3", "4"] {
            let result = try lvsNode(["rollback", "--to", target])
            #expect(result.status == 65, "\(result)")
        }
        #expect(try lvsNode(["rollback", "--to", "0"]).status == 64)
        #expect(try state() == before)
    }
}
