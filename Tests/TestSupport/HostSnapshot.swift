import Foundation
import Glibc

/// Everything lvs-node may change on a host, read back from the kernel and the file system (never
/// with lvs-node): the namespace's addresses (`ip -j addr`), the main routing table of both families
/// (`ip -j route`), chosen /proc/sys values, and the file tree under the root with type, mode, owner,
/// link target and content. Two snapshots compare exactly and print a readable difference.
public struct HostSnapshot: Equatable, CustomStringConvertible {
    /// One line per observable thing: key → what it is. Sorted when printed.
    public let entries: [String: String]
    /// Content of each regular file by its key, to show how two versions differ.
    public let contents: [String: Data]

    /// The sysctls any role touches, for every device the roles use in the tests.
    public static func defaultSysctls(devices: [String] = ["lo"]) -> [String] {
        var names = ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"]
        for device in ["all", "default"] + devices {
            for name in ["arp_ignore", "arp_announce", "rp_filter", "send_redirects"] { names.append("net.ipv4.conf.\(device).\(name)") }
        }
        return names
    }

    /// Captures the namespace and the tree under `root`, leaving out `excluding` (the state directory
    /// when it lies under the root).
    public static func capture(_ namespace: NetworkNamespace, sysctls: [String], root: String, excluding: [String] = []) throws -> HostSnapshot {
        var entries: [String: String] = [:]
        var contents: [String: Data] = [:]
        try addAddresses(namespace, into: &entries)
        try addRoutes(namespace, into: &entries)
        try addSysctls(namespace, sysctls, into: &entries)
        addFiles(root: root, excluding: Set(excluding), into: &entries, contents: &contents)
        return HostSnapshot(entries: entries, contents: contents)
    }

    public var description: String { entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n") }

    /// Lines `- key: value` (only here), `+ key: value` (only in `other`), `~ key: a → b`, with the
    /// two contents of a changed file; empty when equal.
    public func difference(to other: HostSnapshot) -> String {
        var lines: [String] = []
        for key in Set(entries.keys).union(other.entries.keys).sorted() {
            switch (entries[key], other.entries[key]) {
            case let (mine?, nil): lines.append("- \(key): \(mine)")
            case let (nil, theirs?): lines.append("+ \(key): \(theirs)")
            case let (mine?, theirs?) where mine != theirs:
                lines.append("~ \(key): \(mine) → \(theirs)")
                if let a = contents[key], let b = other.contents[key] {
                    lines.append("    before:\n" + Self.printable(a) + "\n    after:\n" + Self.printable(b))
                }
            default: break
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Paths under the root whose name ends in `.lvs-node-tmp`: debris of an interrupted write.
    public var temporaryFiles: [String] { entries.keys.filter { $0.hasPrefix("file ") && $0.hasSuffix(".lvs-node-tmp") }.sorted() }

    // MARK: - capture

    private static func addAddresses(_ namespace: NetworkNamespace, into entries: inout [String: String]) throws {
        let json = try namespace.ip(["-j", "addr", "show"])
        guard let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return }
        for link in links {
            let name = link["ifname"] as? String ?? "?"
            let flags = (link["flags"] as? [String] ?? []).filter { $0 != "LOWER_UP" && $0 != "NO-CARRIER" }
            entries["link \(name)"] = "flags \(flags.joined(separator: ",")) mtu \(link["mtu"] ?? "?")"
            for info in link["addr_info"] as? [[String: Any]] ?? [] {
                let local = info["local"] as? String ?? "?"
                let prefix = info["prefixlen"] as? Int ?? -1
                var value = "scope \(info["scope"] ?? "?") label \(info["label"] as? String ?? "-")"
                for flag in ["secondary", "noprefixroute", "nodad", "deprecated"] where info[flag] as? Bool == true { value += " \(flag)" }
                entries["address \(name) \(local)/\(prefix)"] = value
            }
        }
    }

    private static func addRoutes(_ namespace: NetworkNamespace, into entries: inout [String: String]) throws {
        for family in ["-4", "-6"] {
            let json = try namespace.ip(["-j", family, "route", "show", "table", "main"])
            guard let routes = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { continue }
            for route in routes {
                let destination = route["dst"] as? String ?? "?"
                let metric = route["metric"].map { " metric \($0)" } ?? ""
                let rest = route.filter { !["dst", "metric", "expires"].contains($0.key) }
                    .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                entries["route \(family) \(destination)\(metric)"] = rest
            }
        }
    }

    private static func addSysctls(_ namespace: NetworkNamespace, _ names: [String], into entries: inout [String: String]) throws {
        guard !names.isEmpty else { return }
        // One process for all of them; the paths are arguments, never part of the script.
        let script = "for p in \"$@\"; do v=$(cat \"/proc/sys/$p\" 2>/dev/null) || v='(absent)'; printf '%s\\n' \"$v\"; done"
        let paths = names.map { $0.replacingOccurrences(of: ".", with: "/") }
        let result = try namespace.run("/bin/sh", ["-c", script, "sh"] + paths)
        let values = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, name) in names.enumerated() { entries["sysctl \(name)"] = index < values.count ? values[index] : "(unread)" }
    }

    private static func addFiles(root: String, excluding: Set<String>, into entries: inout [String: String], contents: inout [String: Data]) {
        func walk(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            if excluding.contains(path) { return }
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            let key = "file /" + relative
            let mode = String(info.st_mode & 0o7777, radix: 8)
            let owner = "\(info.st_uid):\(info.st_gid)"
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if !relative.isEmpty { entries[key] = "directory \(mode) \(owner)" }
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                for name in names { walk(relative.isEmpty ? name : relative + "/" + name) }
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                entries[key] = "symlink → \(target) \(owner)"
            case S_IFREG:
                let data = FileManager.default.contents(atPath: path) ?? Data()
                entries[key] = "file \(mode) \(owner) \(data.count) bytes fnv \(String(fnv1a(data), radix: 16)) links \(info.st_nlink)"
                contents[key] = data
            default:
                entries[key] = "special \(String(info.st_mode, radix: 8)) \(owner)"
            }
        }
        walk("")
    }

    static func fnv1a(_ data: Data) -> UInt64 {
        data.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    static func printable(_ data: Data) -> String {
        guard let text = String(data: data, encoding: .utf8) else { return "    (\(data.count) bytes, not UTF-8)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).prefix(40).map { "    | " + $0 }.joined(separator: "\n")
    }
}
