import HostAccess
import NodeModel

/// What the step builders may read of the host (to keep what is right and refuse what cannot work).
public struct HostView {
    public let addresses: AddressControl
    public let links: LinkControl
    public let routes: RouteControl
    public let packetFilter: PacketFilter
    public let ipvs: IPVSHandle
    /// The running kernel's release (uname), for settings that depend on it.
    public var kernelRelease: String = KernelInfo.release()
    /// Devices an earlier step of the same run creates (tunl0), set while building.
    var devicesCreatedEarlier: Set<String> = []

    public init(addresses: AddressControl, links: LinkControl, routes: RouteControl, packetFilter: PacketFilter,
                ipvs: IPVSHandle = IPVSHandle { throw MissingKernelFeature(feature: "IPVS", needed: "the director's IPVS table") }) {
        self.addresses = addresses
        self.links = links
        self.routes = routes
        self.packetFilter = packetFilter
        self.ipvs = ipvs
    }

    /// The interface whose directly connected network holds `gateway`, or nil: a network the host has
    /// an address on, or one that `adding` (the same spec's addresses, applied earlier in the run) gives it.
    func interface(reaching gateway: IPAddress, adding: [InterfaceCIDR] = []) throws -> String? {
        try connected(adding).first { gateway.isInside($0.network, prefixLength: $0.prefixLength) }?.interface
    }

    /// The directly connected networks, as `network/prefix`.
    func connectedNetworks(adding: [InterfaceCIDR] = []) throws -> Set<String> {
        Set(try connected(adding).map { "\($0.network)/\($0.prefixLength)" })
    }

    /// Networks a gateway could be on: host addresses (a /32 or /128 holds no gateway) on any device but lo.
    func gatewayNetworks(adding: [InterfaceCIDR] = []) throws -> [String] {
        try connected(adding).filter { $0.interface != "lo" && $0.prefixLength < $0.network.maximumPrefixLength }
            .map { "\($0.network)/\($0.prefixLength) on \($0.interface)" }.sorted()
    }

    private func connected(_ adding: [InterfaceCIDR]) throws -> [(interface: String, network: IPAddress, prefixLength: Int)] {
        let live = try addresses.addresses().compactMap { address in
            IPAddress(address.address).map { (address.interface, $0.network(prefixLength: address.prefixLength), address.prefixLength) }
        }
        return live + adding.map { ($0.interface, $0.address.network(prefixLength: $0.prefixLength), $0.prefixLength) }
    }
}
