/// Where each value of a validated spec was given (`--route`, `node.yaml line 7 (routes[0].via)`), so
/// a check that needs the host (a gateway on no connected network, a missing interface) names the
/// flag or the file and line the user wrote. Not part of what the spec asks for: two specs that
/// ask the same are equal wherever their values were written.
public struct SpecLocations: Equatable, Sendable {
    /// The spec file or user-data; nil for flags.
    public var source: String?
    public var role: String?
    /// The first VIP's (or `vips`), for a problem with the VIPs as a whole.
    public var vips: String?
    public var gateway: String?
    /// One per route of `NodeSpec.routes`: its gateway's place.
    public var routes: [String] = []
    /// One per address of `NodeSpec.addresses`: its interface's place.
    public var addresses: [String] = []
    /// The director's service interface.
    public var interface: String?
    /// The `ha:` section.
    public var ha: String?

    public init() {}

    /// A place for a field that was not given at all: the flag to give, or the spec file at its role.
    public func missing(flag: String) -> String {
        guard let source else { return flag }
        return role ?? source
    }

    public static func == (_: SpecLocations, _: SpecLocations) -> Bool { true }
}
