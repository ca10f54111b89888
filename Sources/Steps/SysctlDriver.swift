import Engine
import HostAccess

/// Kernel parameters. Subject: the /proc/sys path (`net/ipv4/conf/all/arp_ignore`); state: the value.
public final class SysctlDriver: Driver {
    public static let kindName = "sysctl"
    public var kind: String { Self.kindName }
    private let control: SysctlControl

    public init(_ control: SysctlControl) { self.control = control }

    /// A parameter the kernel does not have reads as absent (nil): a device's parameters appear only
    /// with the device (tunl0). `missing(in:)` turns the ones nothing creates into an error.
    public func read(_ subjects: [String]) throws -> [String?] {
        try subjects.map { subject in
            do {
                return try control.read(Self.key(subject))
            } catch let error as HostError where error.isMissing {
                return nil
            }
        }
    }

    public func write(_ changes: [Change]) throws {
        try forEachChange(changes) { change in
            // Absent again: the parameter went away with its device; nothing to write.
            guard let value = change.after else { return }
            try control.write(Self.key(change.subject), value)
        }
    }

    public func describe(_ change: Change) -> String {
        let name = Self.key(change.subject).description
        switch (change.before, change.after) {
        case let (before?, after?): return "sysctl \(name) \(before) → \(after)"
        case let (nil, after?): return "sysctl \(name) = \(after)"
        case let (before?, nil): return "sysctl \(name) (was \(before))"
        case (nil, nil): return "sysctl \(name)"
        }
    }

    public static func subject(_ key: SysctlKey) -> String { key.path }

    /// Sysctls the plan would set that the kernel lacks, other than those of devices created
    /// earlier in the same plan: a missing kernel feature, refused before anything changes.
    public static func missing(in plan: Plan) -> MissingKernelFeature? {
        let created = Set(plan.changes.filter { $0.kind == LinkDriver.kindName && $0.before == nil }.map(\.subject))
        let missing = plan.changes.filter { change in
            guard change.kind == kindName, change.before == nil, change.after != nil else { return false }
            let components = key(change.subject).components
            let device = components.count > 3 && components[2] == "conf" ? components[3] : nil
            return device.map { !created.contains($0) } ?? true
        }
        guard !missing.isEmpty else { return nil }
        return MissingKernelFeature(feature: missing.map { "sysctl \(key($0.subject))" }.joined(separator: ", "),
                                    needed: "the role (a missing module or kernel option?)")
    }
    static func key(_ subject: String) -> SysctlKey { SysctlKey(subject.split(separator: "/").map(String.init)) }
}
