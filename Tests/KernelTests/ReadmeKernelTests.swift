import Foundation
import Testing
import TestSupport

/// README.md's own text, run: what it tells a new user to type prints what it says it prints.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class ReadmeKernelTests {
    let directory = TemporaryDirectory()
    let namespace: NetworkNamespace

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    static let readme: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    /// The fenced blocks that follow `marker` in README.md, in order.
    static func blocks(after marker: String) -> [String] {
        guard let start = readme.range(of: marker) else { return [] }
        var blocks: [String] = []
        var current: [Substring]?
        for line in readme[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let lines = current {
                    blocks.append(lines.joined(separator: "\n"))
                    current = nil
                    if blocks.count == 2 { break }
                } else {
                    current = []
                }
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func theMainExamplePrintsWhatTheReadmeShows() throws {
        let blocks = Self.blocks(after: "The main job — make this host a real server for two VIPs:")
        try #require(blocks.count == 2, "README.md lost its main example")
        let command = blocks[0].split(separator: " ").map(String.init)
        #expect(command.first == ".build/release/lvs-node")
        // A Debian 12 root, as the README says: systemd, no netplan.
        let root = directory.file("root")
        try FileManager.default.createDirectory(atPath: root + "/etc/systemd/system", withIntermediateDirectories: true)
        try "ID=debian\n".write(toFile: root + "/etc/os-release", atomically: true, encoding: .utf8)
        let run = try namespace.run(lvsNodeBinary, Array(command.dropFirst()) + ["--root", root, "--state-dir", directory.file("state")])
        #expect(run.status == 0, "\(run)")
        let printed = run.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }.joined(separator: "\n")
        #expect(printed == blocks[1])
    }
}
