/// Every file path the agent touches, taken relative to `--root` so tests and image builds work in a folder.
public struct HostRoot: Sendable {
    public let root: String

    public init(_ root: String) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    /// `/etc/x` under the root; a relative path is taken from the root as well.
    public func path(_ absolute: String) -> String {
        let relative = absolute.hasPrefix("/") ? String(absolute.dropFirst()) : absolute
        return root == "/" ? "/\(relative)" : "\(root)/\(relative)"
    }
}
