import Foundation

/// This machine's kernel has no IPVS, and a director's IPVS sysctls (net.ipv4.vs.*) exist only with
/// ip_vs, so a director cannot be set up here as shipped (it is refused, 69: the lab proves those
/// steps). Tests of what else an HA director's run does install, as an operator would under
/// `--root`, the shipped director role without its IPVS sysctl steps.
public func installDirectorRoleWithoutIPVSSysctls(root: String) throws {
    let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../roles/director.yaml")
    let text = try String(contentsOf: shipped.standardized, encoding: .utf8)
    // The steps, each from its "  - name:" line to the next; a comment before a step goes with the one before it.
    var chunks = text.components(separatedBy: "\n  - name: ")
    let head = chunks.removeFirst()
    let kept = chunks.filter { !$0.contains("net.ipv4.vs.") && !$0.contains("spec-values:") }
    guard kept.count < chunks.count else { throw CocoaError(.fileReadCorruptFile) }
    let directory = root + "/etc/lvs-node/roles"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try ([head] + kept).joined(separator: "\n  - name: ").write(toFile: directory + "/director.yaml", atomically: true, encoding: .utf8)
}

/// Whether this kernel has IPVS (its sysctls show once ip_vs is loaded; it is not, here).
public let hostHasIPVS = FileManager.default.fileExists(atPath: "/proc/sys/net/ipv4/vs")
