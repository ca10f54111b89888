/// What keepalived cannot see because it reads one host's file: the directors of a set of specs
/// (`lvs-node check a.yaml b.yaml …`) checked together. VRRP instances with the same interface and
/// virtual_router_id are one cluster and must agree; two different clusters must not share an id.
public enum HAPairCheck {
    public struct Node: Sendable {
        public let source: String
        public let spec: NodeSpec
        public init(source: String, spec: NodeSpec) {
            self.source = source
            self.spec = spec
        }
    }

    public static func problems(_ nodes: [Node]) -> [SpecError] {
        var errors: [SpecError] = []
        let members = nodes.compactMap { node in node.spec.ha.map { (node, $0) } }
        let clusters = Dictionary(grouping: members) { "\($0.1.interface) \($0.1.virtualRouterID)" }
        for (_, cluster) in clusters.sorted(by: { $0.key < $1.key }) {
            let (first, ha) = cluster[0]
            let vips = Set(first.spec.vips)
            for (node, _) in cluster.dropFirst() where Set(node.spec.vips) != vips {
                errors.append(SpecError(node.source, "virtual_router_id \(ha.virtualRouterID) on \(ha.interface) is already used by \(first.source) for other VIPs (\(first.spec.vips.map(\.description).joined(separator: ", "))); two VRRP clusters on one network need different ids"))
            }
            let masters = cluster.filter { $0.1.state == .MASTER }
            if masters.count > 1 {
                errors.append(SpecError(masters[1].0.source, "\(masters[0].0.source) is already the MASTER of virtual_router_id \(ha.virtualRouterID) on \(ha.interface); make this one BACKUP"))
            }
            guard let (master, masterHA) = masters.first else { continue }
            for (node, backup) in cluster where backup.state == .BACKUP && backup.priority >= masterHA.priority {
                errors.append(SpecError(node.source, "this BACKUP has priority \(backup.priority), not below the MASTER's \(masterHA.priority) (\(master.source)); it would take the VIPs from the master; give it a lower priority"))
            }
            for (node, other) in cluster where other.password != masterHA.password {
                errors.append(SpecError(node.source, "the VRRP password differs from the MASTER's (\(master.source)); the pair would ignore each other's adverts"))
            }
            for (node, other) in cluster where other.syncDaemon != masterHA.syncDaemon {
                errors.append(SpecError(node.source, "the sync daemon (\(describe(other.syncDaemon))) differs from the MASTER's (\(describe(masterHA.syncDaemon)), \(master.source)); the backup would not keep the master's connection table, so established connections would break on failover; give both the same sync-daemon and sync-id"))
            }
        }
        return errors
    }

    private static func describe(_ sync: SyncDaemon?) -> String {
        sync.map { "sync-daemon: true, sync-id: \($0.id)" } ?? "sync-daemon: false"
    }
}
