/// What the user asked this node to be, validated: every field here is known good.
public struct NodeSpec: Equatable, Sendable {
    public var role: String
    public var mode: String
    public var vips: [IPAddress]

    public init(role: String, mode: String, vips: [IPAddress]) {
        self.role = role
        self.mode = mode
        self.vips = vips
    }

    /// The spec as the YAML a user could feed back with `--config`: kept with each generation.
    public var yaml: String {
        var lines = ["role: \(role)", "mode: \(mode)"]
        if !vips.isEmpty {
            lines.append("vips:")
            lines += vips.map { "  - \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Several problems found at once, so the user fixes them in one go.
public struct SpecErrors: Error, CustomStringConvertible {
    public let errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
