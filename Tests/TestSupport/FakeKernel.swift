import Glibc
import HostAccess

/// Address and sysctl state that behaves like the kernel's: it rejects what the kernel rejects
/// (unknown device, duplicate address, missing address, IPv6 on a device with IPv6 disabled, an
/// unknown sysctl, a non-number for a numeric sysctl), and can be told to fail a given operation.
public final class FakeKernel: AddressControl, SysctlControl, LinkControl, RouteControl, PacketFilter {
    /// nftables tables by `family name`, as nft would list them.
    public var tables: [String: String] = [:]
    public var hasNft = true
    public var interfaces: Set<String>
    /// Kind (nil for plain devices) and up state of each interface.
    public var linkState: [String: (kind: String?, up: Bool)] = [:]
    public var routeTable: [RouteEntry] = []
    /// Whether creating an IPIP device works (the module is there).
    public var hasIPIP = false
    public var addressList: [InterfaceAddress] = []
    public var sysctlValues: [SysctlKey: String]
    /// cidr → errno returned when adding it.
    public var failAdding: [String: Int32] = [:]
    /// cidr → errno returned when removing it.
    public var failRemoving: [String: Int32] = [:]
    /// sysctl → errno returned when writing it.
    public var failWriting: [SysctlKey: Int32] = [:]
    /// Called before every mutation, with the mutation's description.
    public var beforeMutation: ((String) -> Void)?
    public private(set) var mutations = 0

    public init(interfaces: Set<String> = ["lo", "eth0"]) {
        self.interfaces = interfaces
        sysctlValues = [:]
        for device in ["all", "default"] + interfaces.sorted() {
            for name in ["arp_ignore", "arp_announce", "rp_filter", "send_redirects"] {
                sysctlValues[SysctlKey(["net", "ipv4", "conf", device, name])] = "0"
            }
            sysctlValues[SysctlKey(["net", "ipv6", "conf", device, "disable_ipv6"])] = "0"
        }
        sysctlValues[SysctlKey(["net", "ipv4", "ip_forward"])] = "0"
        addressList = [InterfaceAddress(interface: "lo", address: "127.0.0.1", prefixLength: 8, label: "lo")]
    }

    /// Everything observable, for comparing before and after.
    public struct Snapshot: Equatable {
        public let addresses: Set<InterfaceAddress>
        public let sysctls: [SysctlKey: String]
        public let links: [String: String]
        public let routes: Set<RouteEntry>
        public let tables: [String: String]
    }

    public var snapshot: Snapshot {
        Snapshot(addresses: Set(addressList), sysctls: sysctlValues,
                 links: Dictionary(uniqueKeysWithValues: interfaces.map { ($0, "\(linkState[$0]?.kind ?? "-") \(linkState[$0]?.up ?? true)") }),
                 routes: Set(routeTable), tables: tables)
    }

    public func restore(_ snapshot: Snapshot) {
        addressList = Array(snapshot.addresses)
        sysctlValues = snapshot.sysctls
        interfaces = Set(snapshot.links.keys)
        routeTable = Array(snapshot.routes)
        tables = snapshot.tables
    }

    // MARK: PacketFilter

    public var isAvailable: Bool { hasNft }

    public func table(family: String, name: String) throws -> String? { tables["\(family) \(name)"] }

    public func replace(family: String, name: String, with ruleset: String) throws {
        beforeMutation?("nft replace \(name)")
        tables["\(family) \(name)"] = ruleset
        mutations += 1
    }

    public func delete(family: String, name: String) throws {
        beforeMutation?("nft delete \(name)")
        tables["\(family) \(name)"] = nil
        mutations += 1
    }

    // MARK: LinkControl

    public func links() throws -> [LinkInfo] {
        interfaces.sorted().map { LinkInfo(name: $0, kind: linkState[$0]?.kind, isUp: linkState[$0]?.up ?? true) }
    }

    public func supportsIPIP() -> Bool { hasIPIP }

    public func createIPIP(_ name: String) throws {
        beforeMutation?("create \(name)")
        guard hasIPIP else { throw HostError(operation: "creating", subject: "IPIP device \(name)", errno: EOPNOTSUPP) }
        guard !interfaces.contains(name) else { throw HostError(operation: "creating", subject: name, errno: EEXIST) }
        interfaces.insert(name)
        linkState[name] = ("ipip", false)
        for key in ["arp_ignore", "arp_announce", "rp_filter"] { sysctlValues[SysctlKey(["net", "ipv4", "conf", name, key])] = "0" }
        mutations += 1
    }

    public func setUp(_ name: String, _ up: Bool) throws {
        beforeMutation?("set \(name) \(up ? "up" : "down")")
        guard interfaces.contains(name) else { throw HostError(operation: "setting", subject: name, errno: ENODEV) }
        linkState[name] = (linkState[name]?.kind, up)
        mutations += 1
    }

    public func delete(_ name: String) throws {
        beforeMutation?("delete \(name)")
        guard interfaces.remove(name) != nil else { return }
        linkState[name] = nil
        addressList.removeAll { $0.interface == name }
        sysctlValues = sysctlValues.filter { !($0.key.components.count > 3 && $0.key.components[3] == name) }
        mutations += 1
    }

    // MARK: RouteControl

    public func routes(to destination: String, ipv6: Bool) throws -> [RouteEntry] {
        routeTable.filter { $0.destination == destination && $0.isIPv6 == ipv6 }
    }

    public func add(_ route: RouteEntry) throws {
        beforeMutation?("add route \(route.destination)")
        guard route.device.map(interfaces.contains) ?? true else { throw HostError(operation: "adding", subject: "route", errno: ENODEV) }
        if routeTable.contains(where: { $0.destination == route.destination && $0.metric == route.metric && $0.isIPv6 == route.isIPv6 }) {
            throw HostError(operation: "adding", subject: "route \(route.destination)", errno: EEXIST)
        }
        routeTable.append(route)
        mutations += 1
    }

    public func delete(_ route: RouteEntry) throws {
        beforeMutation?("delete route \(route.destination)")
        guard let index = routeTable.firstIndex(of: route) else { throw HostError(operation: "removing", subject: "route", errno: ESRCH) }
        routeTable.remove(at: index)
        mutations += 1
    }

    // MARK: AddressControl

    public func interfaceNames() throws -> Set<String> { interfaces }

    public func addresses() throws -> [InterfaceAddress] { addressList }

    /// Like the kernel with a batch: every operation is tried, the first refusal is reported.
    public func apply(_ operations: [AddressOperation]) throws {
        var first: BatchFailure?
        for (index, operation) in operations.enumerated() {
            do {
                switch operation {
                case .add(let address): try add(address)
                case .remove(let address): try remove(address)
                }
            } catch let error as HostError {
                if first == nil { first = BatchFailure(index: index, error: error) }
            }
        }
        if let first { throw first }
    }

    public func add(_ address: InterfaceAddress) throws {
        beforeMutation?("add \(address.cidr)")
        guard interfaces.contains(address.interface) else { throw error("adding", address, ENODEV) }
        if let code = failAdding[address.cidr] { throw error("adding", address, code) }
        if address.isIPv6 && sysctlValues[SysctlKey(["net", "ipv6", "conf", address.interface, "disable_ipv6"])] == "1" {
            throw error("adding", address, EACCES)
        }
        if addressList.contains(where: { $0.interface == address.interface && $0.cidr == address.cidr }) {
            throw error("adding", address, EEXIST)
        }
        var stored = address
        if !address.isIPv6 && stored.label == nil { stored.label = address.interface }
        if address.isIPv6 { stored.label = nil }
        addressList.append(stored)
        mutations += 1
    }

    public func remove(_ address: InterfaceAddress) throws {
        beforeMutation?("remove \(address.cidr)")
        if let code = failRemoving[address.cidr] { throw error("removing", address, code) }
        guard let index = addressList.firstIndex(where: { $0.interface == address.interface && $0.cidr == address.cidr }) else {
            throw error("removing", address, EADDRNOTAVAIL)
        }
        addressList.remove(at: index)
        mutations += 1
    }

    // MARK: SysctlControl

    public func read(_ key: SysctlKey) throws -> String {
        guard let value = sysctlValues[key] else {
            throw HostError(operation: "reading", subject: "sysctl \(key)", errno: ENOENT)
        }
        return value
    }

    public func write(_ key: SysctlKey, _ value: String) throws {
        beforeMutation?("write \(key)=\(value)")
        guard sysctlValues[key] != nil else { throw HostError(operation: "writing", subject: "sysctl \(key)", errno: ENOENT) }
        if let code = failWriting[key] { throw HostError(operation: "writing", subject: "sysctl \(key)", errno: code) }
        guard Int(value) != nil else { throw HostError(operation: "writing", subject: "sysctl \(key)", errno: EINVAL) }
        sysctlValues[key] = value
        mutations += 1
    }

    private func error(_ operation: String, _ address: InterfaceAddress, _ code: Int32) -> HostError {
        HostError(operation: operation, subject: "\(address.cidr) on \(address.interface)", errno: code)
    }

    // MARK: conveniences for assertions

    public func labels(on device: String) -> [String: String] {
        var result: [String: String] = [:]
        for address in addressList where address.interface == device { result[address.cidr] = address.label ?? "" }
        return result
    }

    public func sysctl(_ dotted: String) -> String? { sysctlValues[SysctlKey(dotted: dotted)] }

    // MARK: modules

    /// The IPVS sysctls and the kernel's defaults for them (Linux 6.1).
    public static let ipvsSysctlDefaults: [String: String] = [
        "am_droprate": "10", "amemthresh": "1024", "backup_only": "0", "cache_bypass": "0", "conn_reuse_mode": "1", "conntrack": "0",
        "drop_entry": "0", "drop_packet": "0", "expire_nodest_conn": "0", "expire_quiescent_template": "0", "ignore_tunneled": "0",
        "nat_icmp_send": "0", "pmtu_disc": "1", "run_estimation": "1", "schedule_icmp": "0", "secure_tcp": "0", "sloppy_sctp": "0",
        "sloppy_tcp": "0", "snat_reroute": "1", "sync_persist_mode": "0", "sync_ports": "1", "sync_qlen_max": "8192",
        "sync_refresh_period": "0", "sync_retries": "0", "sync_sock_size": "0", "sync_version": "1",
    ]

    public private(set) var ipvsLoaded = false

    /// What loading ip_vs does to the sysctls, as the kernel: net.ipv4.vs.* appear with their
    /// defaults (before, they do not exist). Opening the IPVS table loads it.
    public func loadIPVS() {
        guard !ipvsLoaded else { return }
        ipvsLoaded = true
        for (name, value) in Self.ipvsSysctlDefaults { sysctlValues[SysctlKey(["net", "ipv4", "vs", name])] = value }
    }

}
