import Foundation
import Testing
import TestSupport

/// `--root` and `--state-dir` must name directories: an empty one would put the journal, the lock and
/// the generations (or every file) at the top of the real root. Only `plan` and `history` run here,
/// which write nothing even where the check is missing, so this test cannot harm the machine it runs on.
@Suite final class LocationValidationTests {
    let directory = TemporaryDirectory()

    deinit { directory.remove() }

    static let readOnlyCommands = [["plan", "--role", "realserver", "--vip", "192.0.2.10"], ["history"]]

    @Test(arguments: readOnlyCommands)
    func anEmptyStateDirectoryIsAUsageError(command: [String]) throws {
        let result = try runProcess(lvsNodeBinary, command + ["--root", directory.file("root"), "--state-dir", ""])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("--state-dir"), "\(result)")
        #expect(directory.tree().isEmpty)
    }

    @Test(arguments: readOnlyCommands)
    func anEmptyRootIsAUsageError(command: [String]) throws {
        let result = try runProcess(lvsNodeBinary, command + ["--root", "", "--state-dir", directory.file("state")])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("--root"), "\(result)")
        #expect(directory.tree().isEmpty)
    }

    @Test(arguments: readOnlyCommands)
    func aRootThatIsARegularFileIsAUsageError(command: [String]) throws {
        let file = directory.file("not-a-directory")
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        let result = try runProcess(lvsNodeBinary, command + ["--root", file, "--state-dir", directory.file("state")])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("is not a directory"), "\(result)")
        #expect(directory.tree().keys.sorted() == ["not-a-directory"])
    }

    /// A mistyped --root is refused rather than created: the live state would change while the files
    /// went to a tree nobody boots.
    @Test(arguments: readOnlyCommands)
    func aRootThatDoesNotExistIsAUsageError(command: [String]) throws {
        let missing = directory.file("no-such-root")
        let result = try runProcess(lvsNodeBinary, command + ["--root", missing, "--state-dir", directory.file("state")])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("does not exist"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(!FileManager.default.fileExists(atPath: directory.file("state")))
    }
}
