/// A kernel parameter under /proc/sys, kept as path components so device names with dots
/// (`eth0.100`) stay one component.
public struct SysctlKey: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let components: [String]

    public init(_ components: [String]) { self.components = components }

    /// `net.ipv4.conf.all.arp_ignore` → ["net","ipv4","conf","all","arp_ignore"].
    public init(dotted: String) { self.components = dotted.split(separator: ".").map(String.init) }

    public var path: String { components.joined(separator: "/") }

    /// The sysctl(8) spelling: components joined by dots, dots inside a component written as slashes.
    public var description: String {
        components.map { $0.replacingOccurrences(of: ".", with: "/") }.joined(separator: ".")
    }

    public static func < (lhs: SysctlKey, rhs: SysctlKey) -> Bool { lhs.description < rhs.description }
}

/// Kernel parameters. The real one reads and writes /proc/sys; tests use a stateful fake.
public protocol SysctlControl: AnyObject {
    /// The value with surrounding white space removed. Throws a `HostError` whose `isMissing` is true
    /// when the kernel has no such parameter.
    func read(_ key: SysctlKey) throws -> String
    func write(_ key: SysctlKey, _ value: String) throws
}

private extension String {
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
