import Foundation
import Testing
import TestSupport

/// `--quiet` prints only the summary line, and a long VIP list does not make status or history one
/// enormous line.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class SummaryOutputKernelTests {
    let namespace: NetworkNamespace
    let directory = TemporaryDirectory()

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    func lvsNode(_ arguments: [String]) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, arguments + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
    }

    @Test func quietPrintsOnlyTheSummaryLine() throws {
        let spec = ["--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "none"]
        let expectations: [([String], Int32, String)] = [
            (["plan"] + spec, 2, "changes pending"),
            (["setup"] + spec, 0, "applied generation 1: "),
            (["setup"] + spec, 0, "no changes needed"),
            (["status"], 0, "in place: the host matches generation 1"),
            (["history"], 0, "1 generation; in force: 1"),
            (["stop"], 0, "stopped generation 1: "),
            (["start"], 0, "started generation 1: "),
            (["rollback", "--dry-run"], 2, "would roll back generation 1: "),
            (["rollback"], 0, "rolled back generation 1: "),
        ]
        for (arguments, status, summary) in expectations {
            let result = try lvsNode(arguments + ["--quiet"])
            #expect(result.status == status, "\(arguments): \(result)")
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == 1 && lines.first?.contains(summary) == true, "\(arguments): \(result.stdout)")
        }
    }

    @Test func aLongVIPListIsCutShortInStatusAndHistory() throws {
        let vips = (1...40).flatMap { ["--vip", "198.51.100.\($0)"] }
        let setup = try lvsNode(["setup", "--role", "realserver", "--persist", "none", "--init", "none"] + vips)
        #expect(setup.status == 0, "\(setup)")
        for command in ["status", "history"] {
            let result = try lvsNode([command])
            #expect(result.status == 0, "\(result)")
            let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("vips ") }, "\(result)")
            #expect(line.contains("vips 198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4, 198.51.100.5 … 35 more"), "\(line)")
            #expect(line.count < 200, "\(line)")
        }
    }
}
