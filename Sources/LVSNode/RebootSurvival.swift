import NodeModel

/// What brings the state back after a reboot, said by every plan and setup, and a warning when the
/// live state would be lost: `auto` resolves from the root, and a host where it finds nothing would
/// otherwise learn it only at the next reboot.
enum RebootSurvival {
    /// `moduleParameter`: a loaded module's parameter (`/sys/module/ip_vs/parameters/conn_tab_bits`).
    static func lines(_ spec: NodeSpec, root: String, moduleParameter: (String, String) -> String? = { _, _ in nil }) -> [String] {
        var kept = ["sysctl.d"]
        switch spec.persist {
        case .netplan: kept.append("netplan")
        case .ifcfg: kept.append("ifcfg")
        case .auto, .none: break
        }
        switch spec.initSystem {
        case .systemd: kept.append("a systemd unit running lvs-node start")
        case .sysv: kept.append("a SysV init script running lvs-node start")
        case .auto, .none: break
        }
        var lines = ["after a reboot: \(kept.joined(separator: ", ")) (persist \(spec.persist.rawValue), init \(spec.initSystem.rawValue))"]
        if let note = connectionTableNote(spec, moduleParameter) { lines.append(note) }
        // keepalived brings an HA director's VIPs and table back itself; everything else needs the boot path.
        guard spec.initSystem == .none, spec.ha == nil else { return lines }
        let lost: String
        switch (spec.role, spec.mode, spec.persist) {
        case ("realserver", "dr", .netplan): return lines
        case ("realserver", "dr", .ifcfg): lost = "its IPv6 VIPs"
        case ("realserver", "nat", _): lost = "its default route through the director"
        case ("realserver", _, _): lost = "its VIPs"
        case ("router", _, _): lost = "its addresses and routes"
        default: lost = "its VIPs and IPVS table"
        }
        lines.append("warning: this host loses \(lost) at the next reboot: nothing runs `lvs-node start` at boot "
                     + "(no systemd or SysV init under \(root), or --init none). Pass --init systemd or --init sysv")
        return lines
    }

    /// The connection table's size is read when ip_vs loads: a loaded ip_vs with another size keeps it
    /// until the module is loaded again.
    static func connectionTableNote(_ spec: NodeSpec, _ moduleParameter: (String, String) -> String?) -> String? {
        guard let ipvs = spec.ipvs, let running = moduleParameter("ip_vs", "conn_tab_bits") else { return nil }
        let wanted = ipvs.kernel.effectiveConnTabBits
        guard running != String(wanted) else { return nil }
        return "note: ip_vs runs with conn_tab_bits \(running); the \(wanted) of /etc/modprobe.d/lvs-node.conf takes effect when ip_vs "
            + "is loaded again: a reboot, or `modprobe -r ip_vs` once no IPVS service is left and loading it again"
    }
}
