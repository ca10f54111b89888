import Foundation
import LVSNode
import NodeModel
import Testing

/// A director needs IPVS, which the kernel-test machine lacks: over the fake kernel and IPVS, every
/// README director spec, applied, then fed back from `show`, changes nothing and adds no generation.
@Suite struct ShowRoundTripEngineTests {
    static func readmeDirectorSpecs() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized
        var blocks: [String] = [], current: [Substring]?
        for line in try String(contentsOf: readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```yaml" { current = []; continue }
            if line == "```", let block = current {
                let text = block.joined(separator: "\n")
                if text.hasPrefix("role: director") || text.contains("\nrole: director") { blocks.append(text) }
                current = nil
                continue
            }
            current?.append(line)
        }
        return blocks
    }

    @Test func showOfEveryReadmeDirectorSpecSetsUpNothingNew() throws {
        let specs = try Self.readmeDirectorSpecs()
        #expect(specs.count >= 5)
        for (index, text) in specs.enumerated() {
            let node = FakeNode(interfaces: ["lo", "eth0", "eth1"])
            let label = "README director example \(index + 1)"
            let first = try node.agent.setup(try SpecInput.fromYAML(text, source: label))
            #expect(first.generation == 1, "\(label)")
            let shown = try #require(try node.agent.show(), "\(label)")
            #expect(shown.generation == 1 && !shown.secretsMasked)
            let spec = try #require(shown.spec)
            let again = try node.agent.setup(try SpecInput.fromYAML(spec, source: "show"))
            #expect(again.generation == nil && again.changes.isEmpty, "\(label): show | setup changed \(again.changes)\n\(spec)")
            #expect(try node.agent.history().count == 1, "\(label)")
            #expect(try node.agent.show(generation: 1)?.spec == spec)
        }
    }
}
