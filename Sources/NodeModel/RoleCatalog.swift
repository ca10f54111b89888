import ShippedData

/// Finds roles: an operator's `/etc/lvs-node/roles/NAME.yaml` (under the root) first, then the one shipped in the binary.
public struct RoleCatalog: Sendable {
    /// Directory of operator overrides, already resolved under the root.
    public let overrideDirectory: String
    /// Reads a file's text or returns nil when absent; injected so the model does no I/O of its own.
    public let readFile: @Sendable (String) throws -> String?

    public init(overrideDirectory: String, readFile: @escaping @Sendable (String) throws -> String?) {
        self.overrideDirectory = overrideDirectory
        self.readFile = readFile
    }

    public static var shippedNames: [String] { ShippedData.roles.keys.sorted() }

    public func role(named name: String, location: String) throws -> Role {
        let overridePath = "\(overrideDirectory)/\(name).yaml"
        if !name.contains("/"), let text = try readFile(overridePath) {
            return try Role.parse(text, source: overridePath)
        }
        guard let bytes = ShippedData.roles[name] else {
            throw SpecError(location, "unknown role '\(name)'; the roles are: \(Self.shippedNames.joined(separator: ", "))")
        }
        return try Role.parse(String(decoding: bytes, as: UTF8.self), source: "roles/\(name).yaml")
    }
}
