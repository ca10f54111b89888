import Foundation
import HostAccess
import Steps
import Testing
import TestSupport

/// A run killed at the rename of a file leaves its complete temporary copy beside the target (an
/// `ifcfg-lo:0.lvs-node-tmp` with ONBOOT=yes that network-scripts would bring up at boot); the file
/// driver's `discardDebris`, which recovery and rollback call, removes it and nothing else.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil && which("strace") != nil,
                "needs root for a namespace and strace to kill the run at its rename"))
final class FileDebrisKernelTests {
    let namespace: NetworkNamespace
    let directory = TemporaryDirectory()

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    var root: String { directory.file("root") }

    @Test func aKilledRunsTemporaryIfcfgFileIsRemovedByDiscardDebris() throws {
        // Renames in order: the sysctl drop-in, then ifcfg-lo:0; kill at the second.
        let renames = "rename,renameat,renameat2"
        let killed = try namespace.run(which("strace")!, ["-f", "-o", "/dev/null", "-e", "trace=\(renames)",
                                                          "-e", "inject=\(renames):signal=KILL:when=2",
                                                          lvsNodeBinary, "setup", "--role", "realserver", "--vip", "192.0.2.10",
                                                          "--persist", "ifcfg", "--init", "none",
                                                          "--root", root, "--state-dir", directory.file("state")])
        #expect(killed.status != 0, "\(killed)")
        let scripts = root + "/etc/sysconfig/network-scripts"
        let debris = try String(contentsOfFile: scripts + "/ifcfg-lo:0.lvs-node-tmp", encoding: .utf8)
        #expect(debris.contains("ONBOOT=yes"), "the scenario of the issue: a complete file the network scripts would read")

        try FileDriver(root: HostRoot(root)).discardDebris(["/etc/sysctl.d/90-lvs-node.conf", "/etc/sysconfig/network-scripts/ifcfg-lo:0"])

        #expect(try FileManager.default.contentsOfDirectory(atPath: scripts) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/etc/sysctl.d") == ["90-lvs-node.conf"])
    }

    /// Issue #11 finding 6 as an operator meets it: killed at the rename, then rolled back; nothing the
    /// killed run made is left under the root, the temporary files included.
    @Test func rollbackAfterAKillAtTheRenameLeavesNoTemporaryFiles() throws {
        let renames = "rename,renameat,renameat2"
        let state = directory.file("state")
        let killed = try namespace.run(which("strace")!, ["-f", "-o", "/dev/null", "-e", "trace=\(renames)",
                                                          "-e", "inject=\(renames):signal=KILL:when=2",
                                                          lvsNodeBinary, "setup", "--role", "realserver", "--vip", "192.0.2.10",
                                                          "--persist", "ifcfg", "--init", "none", "--root", root, "--state-dir", state])
        #expect(killed.status != 0, "\(killed)")
        let rollback = try namespace.run(lvsNodeBinary, ["rollback", "--root", root, "--state-dir", state])
        #expect(rollback.status == 0, "\(rollback)")
        let left = directory.tree().keys.filter { $0.hasPrefix("root/") }.sorted()
        #expect(left == [], "left under the root: \(left)")
        #expect(try namespace.addresses(device: "lo").allSatisfy { $0.local != "192.0.2.10" })
    }
}
