import HostAccess
import NodeModel

/// What the step builders may read of the host (to keep what is right and refuse what cannot work).
public struct HostView {
    public let addresses: AddressControl
    public let links: LinkControl
    public let routes: RouteControl
    public let packetFilter: PacketFilter
    public let ipvs: IPVSHandle
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

    /// The interface whose directly connected network holds `gateway`, or nil.
    func interface(reaching gateway: String) throws -> String? {
        guard let target = IPAddress(gateway) else { return nil }
        for address in try addresses.addresses() where address.prefixLength < (address.isIPv6 ? 128 : 32) {
            if let local = IPAddress(address.address), target.isInside(local, prefixLength: address.prefixLength) {
                return address.interface
            }
        }
        return nil
    }

    /// The directly connected networks, as `network/prefix`.
    func connectedNetworks() throws -> Set<String> {
        Set(try addresses.addresses().compactMap { address in
            IPAddress(address.address).map { "\($0.network(prefixLength: address.prefixLength))/\(address.prefixLength)" }
        })
    }
}
