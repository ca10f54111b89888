import Foundation

/// A host situation that can be rebuilt identically as often as a test needs: a fresh network
/// namespace prepared the same way, a root with the same directories, an empty state directory, all
/// at the same paths (files lvs-node writes name the root, so the paths must not change between
/// copies). `remove()` deletes the namespace and the folder.
public final class HostBench {
    public struct Situation: Sendable {
        public let name: String
        /// Directories to create under the root (relative, e.g. `etc/netplan`).
        public let directories: [String]
        /// `ip -n NS …` argument lists that prepare the namespace (links, addresses).
        public let links: [[String]]
        public let sysctls: [String]

        public init(name: String, directories: [String], links: [[String]] = [], sysctls: [String]) {
            self.name = name
            self.directories = directories
            self.links = links
            self.sysctls = sysctls
        }
    }

    public let situation: Situation
    public let directory = TemporaryDirectory()
    public private(set) var namespace: NetworkNamespace?

    public var root: String { directory.file("root") }
    public var state: String { directory.file("state") }
    public var scratch: String { directory.file("scratch") }
    /// `--root` and `--state-dir` for every lvs-node command.
    public var locations: [String] { ["--root", root, "--state-dir", state] }

    public init(_ situation: Situation) { self.situation = situation }

    deinit { remove() }

    public func remove() {
        namespace?.killProcesses()
        namespace?.remove()
        namespace = nil
        directory.remove()
    }

    /// The situation as new: the old namespace and files are gone.
    @discardableResult
    public func fresh() throws -> NetworkNamespace {
        namespace?.killProcesses()
        namespace?.remove()
        namespace = nil
        for path in [root, state, scratch] { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for relative in situation.directories {
            try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
        }
        let created = try NetworkNamespace()
        namespace = created
        for arguments in situation.links { try created.ip(arguments) }
        return created
    }

    /// A reboot: the live state is gone (a brand-new namespace, prepared as the situation says) and
    /// the files under the root and the state directory stay. Processes left in the old namespace
    /// (a watcher) are killed, as a reboot would.
    @discardableResult
    public func reboot() throws -> NetworkNamespace {
        if let namespace { namespace.killProcesses(); namespace.remove() }
        namespace = nil
        let created = try NetworkNamespace()
        namespace = created
        for arguments in situation.links { try created.ip(arguments) }
        return created
    }

    /// Runs lvs-node with `arguments` and the bench's root and state directory, in the namespace.
    @discardableResult
    public func lvsNode(_ arguments: [String]) throws -> ProcessResult {
        try current().run(lvsNodeBinary, arguments + locations)
    }

    public func snapshot() throws -> HostSnapshot {
        try HostSnapshot.capture(try current(), sysctls: situation.sysctls, root: root)
    }

    /// `rollback` until there is nothing left to roll back (at most `limit` times); the results.
    public func rollBackEverything(limit: Int = 6) throws -> [ProcessResult] {
        var results: [ProcessResult] = []
        for _ in 0..<limit {
            let result = try lvsNode(["rollback"])
            results.append(result)
            if result.status != 0 || result.stdout.contains("nothing to roll back") { break }
        }
        return results
    }

    public func current() throws -> NetworkNamespace {
        guard let namespace else { return try fresh() }
        return namespace
    }
}

extension HostBench.Situation {
    /// A DR real server's host: the directories for netplan and systemd exist (so `auto` finds them).
    public static let realserver = HostBench.Situation(
        name: "realserver",
        directories: ["etc/netplan", "etc/sysctl.d", "etc/systemd/system/multi-user.target.wants"],
        sysctls: HostSnapshot.defaultSysctls(devices: ["lo"]))

    /// A real server's host with an uplink `eth0` (192.0.2.20/24, default route via 192.0.2.254,
    /// fixed MAC, no IPv6 link-local): a NAT real server's --gateway replaces that route.
    public static let uplinkedRealserver = HostBench.Situation(
        name: "uplinked realserver",
        directories: ["etc/netplan", "etc/sysctl.d", "etc/systemd/system/multi-user.target.wants"],
        links: [["link", "add", "eth0", "address", "02:00:00:00:02:01", "type", "veth", "peer", "name", "peer0", "address", "02:00:00:00:02:02"],
                ["link", "set", "eth0", "addrgenmode", "none"], ["link", "set", "peer0", "addrgenmode", "none"],
                ["link", "set", "eth0", "up"], ["link", "set", "peer0", "up"],
                ["addr", "add", "192.0.2.20/24", "dev", "eth0"], ["route", "add", "default", "via", "192.0.2.254"]],
        sysctls: HostSnapshot.defaultSysctls(devices: ["lo", "eth0"]))

    /// A router's host: a veth `eth1` (fixed MAC, no IPv6 link-local, so copies are identical) with
    /// one address of its own, on which the router's gateway lies.
    public static let router = HostBench.Situation(
        name: "router",
        directories: ["etc/sysctl.d", "etc/systemd/system/multi-user.target.wants"],
        links: [["link", "add", "eth1", "address", "02:00:00:00:01:01", "type", "veth", "peer", "name", "peer1", "address", "02:00:00:00:01:02"],
                ["link", "set", "eth1", "addrgenmode", "none"], ["link", "set", "peer1", "addrgenmode", "none"],
                ["link", "set", "eth1", "up"], ["link", "set", "peer1", "up"],
                ["addr", "add", "203.0.113.1/24", "dev", "eth1"]],
        sysctls: HostSnapshot.defaultSysctls(devices: ["lo", "eth1"]) + ["net.ipv6.conf.eth1.forwarding"])
}
