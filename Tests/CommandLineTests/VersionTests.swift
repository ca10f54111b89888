import Foundation
import Testing
import TestSupport

/// `lvs-node --version` and `version --json` name the release and the commit the binary was built
/// from: the checkout's own `git rev-parse`, read here with git, not with lvs-node.
@Suite struct VersionTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    /// The checkout's commit, or nil outside a git checkout (a source tarball builds "unknown").
    static let commit: String? = {
        guard let git = which("git"),
              let result = try? runProcess(git, ["-C", checkout, "rev-parse", "--short=12", "HEAD"]), result.status == 0 else { return nil }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    @Test func versionNamesTheReleaseAndTheCommitOfTheCheckout() throws {
        let text = try runProcess(lvsNodeBinary, ["--version"])
        #expect(text.status == 0, "\(text)")
        let expected = Self.commit ?? "unknown"
        #expect(text.stdout == "lvs-node 0.3.0 (commit \(expected))\n", "\(text)")
        let json = try runProcess(lvsNodeBinary, ["version", "--json"])
        #expect(json.status == 0, "\(json)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["commit"] as? String == expected, "\(json)")
        #expect(object["version"] as? String == "0.3.0")
        #expect(object["schema_version"] as? Int == 3)
    }
}
