import HostAccess
import NodeModel

/// Resolves `--persist auto` and `--init auto` from what the root holds.
enum PlatformDetection {
    static func resolve(_ spec: NodeSpec, root: HostRoot) -> NodeSpec {
        var resolved = spec
        if spec.persist == .auto { resolved.persist = persist(root) }
        if spec.initSystem == .auto { resolved.initSystem = initSystem(root) }
        return resolved
    }

    /// netplan where /etc/netplan exists (Ubuntu), ifcfg where the RHEL network scripts are, else by
    /// /etc/os-release; none where neither applies (Debian's ifupdown: the boot unit alone brings the
    /// VIPs up).
    static func persist(_ root: HostRoot) -> PersistBackend {
        if isDirectory(root, "/etc/netplan") { return .netplan }
        if isDirectory(root, "/etc/sysconfig/network-scripts") { return .ifcfg }
        let family = osFamily(root)
        if family.contains("ubuntu") { return .netplan }
        if family.contains(where: { ["rhel", "centos", "fedora"].contains($0) }) { return .ifcfg }
        return .none
    }

    /// systemd where it runs or is installed, SysV where only init scripts exist: /etc/init.d, or
    /// /etc/rc.d/init.d on the Red Hat family (where /etc/init.d is a link to it).
    static func initSystem(_ root: HostRoot) -> InitSystem {
        if isDirectory(root, "/run/systemd/system") || isDirectory(root, "/etc/systemd/system") { return .systemd }
        if isDirectory(root, "/etc/init.d") || isDirectory(root, "/etc/rc.d/init.d") { return .sysv }
        return .none
    }

    /// ID and ID_LIKE from os-release, lower-cased.
    static func osFamily(_ root: HostRoot) -> [String] {
        // A link to ../usr/lib/os-release on most distributions: followed, but only inside the root.
        guard let bytes = (try? root.readFollowingLinksInside("/etc/os-release")) ?? nil else { return [] }
        var words: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            for key in ["ID=", "ID_LIKE="] where line.hasPrefix(key) {
                let value = line.dropFirst(key.count).filter { $0 != "\"" && $0 != "'" }
                words += value.lowercased().split(separator: " ").map(String.init)
            }
        }
        return words
    }

    /// Looked up beneath the root like every file lvs-node writes; a link there is not a directory.
    private static func isDirectory(_ root: HostRoot, _ path: String) -> Bool {
        if case .other("a directory")? = try? root.inspect(path) { return true }
        return false
    }
}
