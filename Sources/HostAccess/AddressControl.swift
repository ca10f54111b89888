import Glibc

/// One address on one interface, as the kernel holds it.
public struct InterfaceAddress: Hashable, Sendable {
    /// Device name, e.g. `lo`.
    public var interface: String
    /// Canonical text form (inet_ntop), without prefix.
    public var address: String
    public var prefixLength: Int
    /// IPv4 only: the `ifa_label` (`lo:0`). The kernel gives IPv4 addresses without one the device name.
    public var label: String?

    public init(interface: String, address: String, prefixLength: Int, label: String? = nil) {
        self.interface = interface
        self.address = address
        self.prefixLength = prefixLength
        self.label = label
    }

    /// On bytes: asked of every address of every dump, and Character search was a tenth of a large run.
    public var isIPv6: Bool {
        address.utf8.withContiguousStorageIfAvailable { !$0.isEmpty && memchr($0.baseAddress!, Int32(UInt8(ascii: ":")), $0.count) != nil }
            ?? address.utf8.contains(UInt8(ascii: ":"))
    }
    public var cidr: String { address + "/" + String(prefixLength) }
}

public enum AddressOperation: Hashable, Sendable {
    case add(InterfaceAddress)
    case remove(InterfaceAddress)
}

/// Live interface addresses. The real one speaks rtnetlink; tests use a stateful fake.
public protocol AddressControl: AnyObject {
    /// Names of the interfaces that exist now.
    func interfaceNames() throws -> Set<String>
    /// Every address on every interface, in one dump.
    func addresses() throws -> [InterfaceAddress]
    /// Carries out the operations in order; throws `BatchFailure` for the first one refused.
    func apply(_ operations: [AddressOperation]) throws
}
