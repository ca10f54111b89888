import NodeModel

/// The director's kernel modules and module options as template values: `ipvsModules` (ip_vs and
/// the scheduler module of each scheduler the spec's services use, for modules-load.d) and
/// `connTabBits` (for modprobe.d). Empty for a spec without an IPVS table (not a director).
enum KernelTemplateValues {
    static func values(_ spec: NodeSpec) -> [String: Any] {
        guard let ipvs = spec.ipvs else { return [:] }
        let schedulers = Set(ipvs.services.map(\.scheduler)).sorted()
        return ["ipvsModules": ["ip_vs"] + schedulers.map { "ip_vs_\($0)" }, "connTabBits": ipvs.kernel.effectiveConnTabBits]
    }
}
