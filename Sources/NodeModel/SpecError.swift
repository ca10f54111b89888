/// A problem with what the user asked for: which value, where, what is wrong and what would be right.
/// Nothing has been changed when one is thrown.
public struct SpecError: Error, CustomStringConvertible, Equatable {
    /// A usage problem is in how the command was called (a required flag missing: exit 64); a data
    /// problem is in a value or a spec file (exit 65).
    public enum Kind: Equatable, Sendable {
        case data, usage
    }

    /// Where the value came from: `--vip`, `node.yaml line 4 (vips[1])`, `role realserver`.
    public let location: String
    public let message: String
    public let kind: Kind

    public init(_ location: String, _ message: String, kind: Kind = .data) {
        self.location = location
        self.message = message
        self.kind = kind
    }

    public var isUsage: Bool { kind == .usage }

    public var description: String { "\(location): \(message)" }
}
