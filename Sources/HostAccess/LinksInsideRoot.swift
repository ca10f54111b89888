import Glibc

/// Reading a file as a process chrooted to the root would see it, for files a distribution itself
/// reaches through links (`/etc/os-release -> ../usr/lib/os-release`, cloud-init's
/// `/var/lib/cloud/instance -> /var/lib/cloud/instances/ID`). Links are followed one component at
/// a time from descriptors, the way `openat2(RESOLVE_IN_ROOT)` does: an absolute target starts again
/// at the root and `..` stops there, so whatever the links say, the file read is beneath the root.
/// Only for reading: writes go through `BeneathRoot`, which follows no link at all.
extension HostRoot {
    /// The bytes of the regular file `absolute` names inside the root, or nil when it does not exist.
    public func readFollowingLinksInside(_ absolute: String) throws -> [UInt8]? {
        guard let root = try openRoot(creating: nil) else { return nil }
        var directories = [root]
        var pending = Array(absolute.split(separator: "/").map(String.init).reversed())
        var linksFollowed = 0
        while let name = pending.popLast() {
            if name == "." { continue }
            if name == ".." {
                if directories.count > 1 { directories.removeLast() }
                continue
            }
            let directory = directories[directories.count - 1]
            if let target = try directory.linkTarget(name) {
                linksFollowed += 1
                guard linksFollowed <= Self.maximumLinks else {
                    throw HostError(operation: "resolving", subject: "\(path(absolute)) inside the root", errno: ELOOP)
                }
                if target.hasPrefix("/") { directories = [root] }
                pending += target.split(separator: "/").map(String.init).reversed()
            } else if pending.isEmpty {
                return try directory.read(name)
            } else {
                guard let next = try directory.subdirectory(name) else { return nil }
                directories.append(next)
            }
        }
        return nil
    }

    /// As the kernel's own limit on links in one lookup.
    static let maximumLinks = 40
}
