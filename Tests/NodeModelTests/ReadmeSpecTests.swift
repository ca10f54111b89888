import Foundation
import NodeModel
import Testing

/// Every spec example in README.md resolves: the documentation cannot drift from the schema.
@Suite struct ReadmeSpecTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized

    /// The ```yaml blocks that are node specs (they start with a comment or `role:`).
    static func specs() throws -> [String] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```yaml" { current = []; continue }
            if line == "```", let block = current {
                let joined = block.joined(separator: "\n")
                if joined.contains("\nrole: ") || joined.hasPrefix("role: ") { blocks.append(joined) }
                current = nil
                continue
            }
            current?.append(line)
        }
        return blocks
    }

    @Test func everySpecExampleResolves() throws {
        let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
        let specs = try Self.specs()
        #expect(specs.count >= 9)
        for (index, spec) in specs.enumerated() {
            do {
                _ = try SpecInput.fromYAML(spec, source: "README example \(index + 1)").resolve(with: catalog)
            } catch {
                Issue.record("README example \(index + 1) does not resolve: \(error)\n\(spec)")
            }
        }
    }
}
