import Foundation
import Testing
import TestSupport

/// Rolling back leaves the root's tree as it was: the files go, and so do the directories setup had
/// to create for them (etc/sysctl.d, rcN.d …), while a directory that was already there stays, empty or not.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class RollbackTreeKernelTests {
    let directory = TemporaryDirectory()
    let namespace: NetworkNamespace

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    /// Every directory and file under the root, relative, directories marked with a trailing slash.
    func tree(_ root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.map { name in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory)
            return isDirectory.boolValue ? name + "/" : name
        }.sorted()
    }

    @Test func rollbackRemovesTheDirectoriesSetupCreatedAndKeepsTheOnesThatWereThere() throws {
        let root = directory.file("root")
        // A root with an empty rc3.d of its own and /etc/init.d, but no sysctl.d, rcN.d or network-scripts.
        for existing in ["etc/rc3.d", "etc/init.d", "etc/sysconfig"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(existing)", withIntermediateDirectories: true)
        }
        let before = tree(root)
        let arguments = ["--root", root, "--state-dir", directory.file("state")]
        let setup = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10",
                                                      "--persist", "ifcfg", "--init", "sysv"] + arguments)
        #expect(setup.status == 0, "\(setup)")
        #expect(FileManager.default.fileExists(atPath: "\(root)/etc/rc5.d/S10lvs-node-realserver") ||
                tree(root).contains { $0.hasPrefix("etc/rc5.d/") }, "\(tree(root))")
        #expect(tree(root).contains("etc/sysconfig/network-scripts/ifcfg-lo:0"), "\(tree(root))")
        let rollback = try namespace.run(lvsNodeBinary, ["rollback"] + arguments)
        #expect(rollback.status == 0, "\(rollback)")
        #expect(tree(root) == before)
    }
}
