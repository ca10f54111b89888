import Engine
import HostAccess
import NodeModel

/// Role step `kind: sysctl`: a table of kernel parameters and their values; `{interface}` in a name
/// is the spec's interface.
enum SysctlStep {
    static let kind = "sysctl"

    static func desired(_ step: Role.Step, spec: NodeSpec) throws -> DesiredStep {
        let values = try step.requiredSetting("values").anyMap("values")
        // A name for the spec's interface is left out when the spec has none.
        let desired = try values.filter { !spec.filling($0.key).contains("{interface}") }.map { entry -> Desired in
            let value = try entry.value.string("the value of \(entry.key)")
            // Split the role's name, then fill each component: an interface name may hold dots (eth0.100).
            let key = SysctlKey(entry.key.split(separator: ".", omittingEmptySubsequences: false).map { spec.filling(String($0)) })
            guard key.components.count >= 2, !key.components.contains(where: { $0.isEmpty || $0 == ".." }) else {
                throw SpecError(entry.value.location, "'\(entry.key)' is not a sysctl name such as net.ipv4.ip_forward")
            }
            return Desired(subject: SysctlDriver.subject(key), state: value)
        }
        return DesiredStep(name: step.name, kind: SysctlDriver.kindName, desired: desired)
    }
}
