import Foundation
import Testing
import TestSupport

/// `rollback --all` undoes generation after generation, each a run of its own: killed at any durable
/// step (a rename, an fsync, a netlink request), the next `rollback --all` recovers the killed run and
/// finishes the walk, and the host ends byte for byte as it was before lvs-node.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil && which("strace") != nil,
                "needs root for a namespace and strace to kill the run at each durable step"))
struct RollbackAllCrashKernelTests {
    static let steps = "rename,renameat,renameat2,fsync,fdatasync,sendmsg,sendto"
    static let sysctls = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                          "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce"]

    /// Three generations in a fresh namespace and root, then `rollback --all` killed at step `when`;
    /// returns whether the kill happened (false: the run finished first).
    func killedAt(_ when: Int) throws -> Bool {
        let namespace = try NetworkNamespace()
        let directory = TemporaryDirectory()
        defer {
            namespace.remove()
            directory.remove()
        }
        let location = ["--root", directory.file("root"), "--state-dir", directory.file("state")]
        func lvsNode(_ arguments: [String]) throws -> ProcessResult { try namespace.run(lvsNodeBinary, arguments + location) }
        func host() throws -> String {
            let files = (FileManager.default.enumerator(atPath: directory.file("root"))?.allObjects as? [String] ?? []).sorted()
            let contents = files.map { "\($0) \(FileManager.default.contents(atPath: directory.file("root/\($0)"))?.base64EncodedString() ?? "-")" }
            return "\(try namespace.snapshot(sysctls: Self.sysctls))\n\(contents.joined(separator: "\n"))"
        }
        let before = try host()
        for vips in [["192.0.2.10"], ["192.0.2.10", "192.0.2.11"], ["192.0.2.12"]] {
            let setup = try lvsNode(["setup", "--role", "realserver", "--persist", "none", "--init", "none"] + vips.flatMap { ["--vip", $0] })
            try #require(setup.status == 0, "\(setup)")
        }
        let killed = try namespace.run(which("strace")!, ["-f", "-o", "/dev/null", "-e", "trace=\(Self.steps)",
                                                          "-e", "inject=\(Self.steps):signal=KILL:when=\(when)",
                                                          lvsNodeBinary, "rollback", "--all"] + location)
        let wasKilled = killed.status != 0
        let status = try lvsNode(["status"])
        #expect(status.status == 0 || status.status == 2, "killed at step \(when): \(status)")
        let again = try lvsNode(["rollback", "--all"])
        #expect(again.status == 0, "killed at step \(when): \(again)")
        #expect(try host() == before, "killed at step \(when): the host differs from before lvs-node")
        #expect(try lvsNode(["history"]).stdout.split(separator: "\n").filter { $0.contains("  applied  ") }.isEmpty,
                "killed at step \(when): a generation is still in force")
        return wasKilled
    }

    @Test func aKillAtAnyStepOfRollbackAllIsRecoveredAndTheWalkFinished() throws {
        var when = 1
        while try killedAt(when) {
            when += 1
            try #require(when < 400, "rollback --all never finished under strace")
        }
        #expect(when > 3, "the run was killed at only \(when - 1) steps: the injection did not reach the rollback")
    }
}
