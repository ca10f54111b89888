import Engine
import HostAccess

/// Kernel parameters. Subject: the /proc/sys path (`net/ipv4/conf/all/arp_ignore`); state: the value.
public final class SysctlDriver: Driver {
    public static let kindName = "sysctl"
    public var kind: String { Self.kindName }
    private let control: SysctlControl

    public init(_ control: SysctlControl) { self.control = control }

    public func read(_ subjects: [String]) throws -> [String?] {
        try subjects.map { subject in
            do {
                return try control.read(Self.key(subject))
            } catch let error as HostError where error.isMissing {
                throw HostError(operation: "reading", subject: "sysctl \(Self.key(subject)): the kernel has no such parameter (a missing module or feature?)", errno: ENOENT_VALUE)
            }
        }
    }

    public func write(_ changes: [Change]) throws {
        for change in changes {
            do {
                guard let value = change.after else {
                    throw HostError(operation: "removing", subject: "sysctl \(Self.key(change.subject)) (a kernel parameter cannot be absent)", errno: EINVAL_VALUE)
                }
                try control.write(Self.key(change.subject), value)
            } catch {
                throw ChangeFailure(change: change, underlying: error)
            }
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
    static func key(_ subject: String) -> SysctlKey { SysctlKey(subject.split(separator: "/").map(String.init)) }
}

// errno values without importing Glibc into every step file.
let ENOENT_VALUE: Int32 = 2
let EINVAL_VALUE: Int32 = 22
