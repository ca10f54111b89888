import Foundation
import Glibc

/// A fresh network namespace (`ip netns add`) for one test, so nothing reaches the host's own network
/// state. Everything is read back with iproute2 and /proc/sys inside the namespace, never with lvs-node.
public final class NetworkNamespace {
    public let name: String
    private static let counter = Counter()

    /// Why namespace tests cannot run here, or nil when they can.
    public static let unavailableReason: String? = {
        guard geteuid() == 0 else { return "needs root to create network namespaces" }
        guard which("ip") != nil else { return "needs iproute2's ip" }
        guard let probe = try? NetworkNamespace() else { return "ip netns add failed: no network namespaces here" }
        probe.remove()
        return nil
    }()

    public init() throws {
        name = "lvsnode-test-\(getpid())-\(Self.counter.next())"
        let result = try runProcess(which("ip")!, ["netns", "add", name])
        guard result.status == 0 else { throw NamespaceError(message: "ip netns add \(name): \(result.stderr)") }
        // A real host has lo up; a fresh namespace does not.
        try ip(["link", "set", "lo", "up"])
    }

    deinit { remove() }

    public func remove() { _ = try? runProcess(which("ip")!, ["netns", "delete", name]) }

    /// The processes running in the namespace (`ip netns pids`): a watcher lvs-node left behind.
    public func processes() -> [Int32] {
        guard let result = try? runProcess(which("ip")!, ["netns", "pids", name]), result.status == 0 else { return [] }
        return result.stdout.split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Kills every process in the namespace (SIGKILL), so nothing a test started outlives it.
    public func killProcesses() {
        for pid in processes() { kill(pid, SIGKILL) }
    }

    /// Runs a program inside the namespace.
    @discardableResult
    public func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> ProcessResult {
        try runProcess(which("ip")!, ["netns", "exec", name, executable] + arguments, input: input)
    }

    /// `ip -n NAME …`; throws if it fails.
    @discardableResult
    public func ip(_ arguments: [String]) throws -> String {
        let result = try runProcess(which("ip")!, ["-n", name] + arguments)
        guard result.status == 0 else { throw NamespaceError(message: "ip \(arguments.joined(separator: " ")): \(result.stderr)") }
        return result.stdout
    }

    /// The namespace's addresses as the kernel reports them (`ip -j addr show`).
    public func addresses(device: String? = nil) throws -> [KernelAddress] {
        let json = try ip(["-j", "addr", "show"] + (device.map { ["dev", $0] } ?? []))
        let links = try JSONDecoder().decode([KernelLink].self, from: Data(json.utf8))
        return links.flatMap { link in link.addr_info.map { KernelAddress(device: link.ifname, info: $0) } }
    }

    /// A value under /proc/sys read inside the namespace, e.g. `net.ipv4.conf.all.arp_ignore`.
    public func sysctl(_ dotted: String) throws -> String {
        let path = "/proc/sys/" + dotted.replacingOccurrences(of: ".", with: "/")
        let result = try run("/bin/cat", [path])
        guard result.status == 0 else { throw NamespaceError(message: "cat \(path): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func setSysctl(_ dotted: String, _ value: String) throws {
        let path = "/proc/sys/" + dotted.replacingOccurrences(of: ".", with: "/")
        let result = try run("/bin/sh", ["-c", "echo \"$1\" > \"$2\"", "sh", value, path])
        guard result.status == 0 else { throw NamespaceError(message: "writing \(path): \(result.stderr)") }
    }

    /// Everything a realserver run may touch, for exact before/after comparison.
    public func snapshot(sysctls: [String]) throws -> Snapshot {
        Snapshot(addressJSON: try ip(["-j", "addr", "show"]),
                 sysctls: Dictionary(uniqueKeysWithValues: try sysctls.map { ($0, try sysctl($0)) }))
    }

    public struct Snapshot: Equatable, CustomStringConvertible {
        public let addressJSON: String
        public let sysctls: [String: String]
        public var description: String { "\(sysctls.sorted { $0.key < $1.key })\n\(addressJSON)" }
    }

    struct NamespaceError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}

struct KernelLink: Decodable {
    let ifname: String
    let addr_info: [KernelAddressInfo]
}

public struct KernelAddressInfo: Decodable, Equatable {
    public let family: String
    public let local: String
    public let prefixlen: Int
    public let label: String?
}

public struct KernelAddress: Equatable {
    public let device: String
    public let info: KernelAddressInfo
    public var local: String { info.local }
    public var prefixLength: Int { info.prefixlen }
    public var label: String? { info.label }
}
