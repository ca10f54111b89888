import Engine
import HostAccess
import NodeModel

/// Role step `kind: sysctl`: a table of kernel parameters and their values; `{interface}` in a name
/// is the spec's interface. A value may carry its own reason: `NAME: {value: "1", why: …}` (one
/// step, so one pair of journal records, for many settings each with its why).
///
/// - `kernel-older-than: {"5.9": {NAME: VALUE}}`: values for a running kernel older than that release.
/// - The spec's `kernel.sysctls` replace the value of a name the step sets; the step marked
///   `spec-values: kernel.sysctls` also takes the spec's names no earlier step sets.
/// - `net.ipv4.vs.*` exist only once ip_vs is loaded: such a step opens the IPVS table first, which
///   makes the kernel load the module (the generic netlink family `IPVS` is its alias).
enum SysctlStep {
    static let kind = "sysctl"
    static let ipvsPrefix = "net/ipv4/vs/"

    static func desired(_ step: Role.Step, spec: NodeSpec, host: HostView, earlier: [DesiredStep] = []) throws -> DesiredStep {
        var values = try step.requiredSetting("values").anyMap("values").map { (name: $0.key, value: try value($0.value, $0.key),
                                                                                  location: $0.value.location) }
        func set(_ name: String, _ value: String, _ location: String, adding: Bool) {
            if let index = values.firstIndex(where: { $0.name == name }) {
                values[index].value = value
            } else if adding {
                values.append((name, value, location))
            }
        }
        if let table = step.setting("kernel-older-than") {
            for (version, entries) in try table.anyMap("kernel-older-than") where KernelInfo.isOlder(host.kernelRelease, than: version) {
                for (name, value) in try entries.anyMap("kernel-older-than.\(version)") {
                    set(name, try value.string("the value of \(name)"), value.location, adding: true)
                }
            }
        }
        let overrides = (spec.ipvs?.kernel.sysctls ?? [:]).sorted { $0.key < $1.key }
        let setEarlier = Set(earlier.filter { $0.kind == SysctlDriver.kindName }.flatMap { $0.desired.map(\.subject) })
        let takesSpecValues = step.setting("spec-values") != nil
        for (name, value) in overrides where !setEarlier.contains(name.replacingDots()) {
            set(name, value, spec.locations.source ?? "kernel.sysctls", adding: takesSpecValues)
        }
        // A name for the spec's interface is left out when the spec has none.
        let desired = try values.filter { !spec.filling($0.name).contains("{interface}") }.map { entry -> Desired in
            // Split the role's name, then fill each component: an interface name may hold dots (eth0.100).
            let key = SysctlKey(entry.name.split(separator: ".", omittingEmptySubsequences: false).map { spec.filling(String($0)) })
            guard key.components.count >= 2, !key.components.contains(where: { $0.isEmpty || $0 == ".." }) else {
                throw SpecError(entry.location, "'\(entry.name)' is not a sysctl name such as net.ipv4.ip_forward")
            }
            return Desired(subject: SysctlDriver.subject(key), state: entry.value)
        }
        if desired.contains(where: { $0.subject.hasPrefix(ipvsPrefix) }) {
            _ = try? host.ipvs.control()   // without IPVS the plan names the missing sysctls (after every spec error)
        }
        return DesiredStep(name: step.name, kind: SysctlDriver.kindName, desired: desired)
    }

    /// `"1"`, or `{value: "1", why: …}`.
    private static func value(_ entry: YAMLValue, _ name: String) throws -> String {
        guard case .map = entry.content else { return try entry.string("the value of \(name)") }
        let fields = try entry.map(name, allowed: ["value", "why"])
        guard let value = fields.first(where: { $0.key == "value" })?.value else {
            throw SpecError(entry.location, "\(name) needs value: (and may have why:)")
        }
        return try value.string("the value of \(name)")
    }
}

extension String {
    /// `net.ipv4.vs.x` → `net/ipv4/vs/x`, a sysctl subject.
    func replacingDots() -> String { split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/") }
}
