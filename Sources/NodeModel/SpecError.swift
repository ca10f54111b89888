/// A problem with what the user asked for: which value, where, what is wrong and what would be right.
/// Nothing has been changed when one is thrown.
public struct SpecError: Error, CustomStringConvertible, Equatable {
    /// Where the value came from: `--vip`, `node.yaml line 4 (vips[1])`, `role realserver`.
    public let location: String
    public let message: String

    public init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
