import Glibc

/// Files beneath the root, resolved from a descriptor of the root one component at a time, each
/// opened with `O_NOFOLLOW`, the way `openat2(RESOLVE_BENEATH)` resolves: a link on the way is
/// followed only while it stays beneath the root (`<root>/etc/init.d -> rc.d/init.d` on the Red Hat
/// family), and one that leads out (`<root>/etc/netplan -> /elsewhere`, or `../../elsewhere`) is
/// refused, naming it, so nothing is read, written, created or removed outside the root. The last
/// component is never followed: a symlink there is read as a link, replaced or removed, as the file
/// steps want. With the root `/`, an absolute target is beneath it and is followed.
extension HostRoot {
    /// How links on the way are taken.
    enum Links {
        /// Followed while beneath the root; one leading out is refused.
        case beneath
        /// As a process chrooted to the root sees them: an absolute target starts again at the root
        /// and `..` stops there. For reading what the distribution itself links (os-release).
        case asIfChrooted
    }

    /// The directory holding `absolute` and the entry's name in it; nil when a directory on the way
    /// does not exist and `creating` is nil (else missing ones are made with that mode).
    public func parent(of absolute: String, creating mode: mode_t? = nil) throws -> (OpenDirectory, String)? {
        try resolve(absolute, creating: mode, links: .beneath, followingTheLast: false)
    }

    /// The walk: `pending` holds the names still to resolve, last first; a followed link puts its
    /// target's names in front of the rest.
    func resolve(_ absolute: String, creating mode: mode_t?, links: Links, followingTheLast: Bool) throws -> (OpenDirectory, String)? {
        var pending = Array(absolute.split(separator: "/").map(String.init).reversed())
        guard !pending.isEmpty, !pending.contains(where: { $0 == "." || $0 == ".." }) else {
            throw HostError(operation: "refusing the path", subject: "'\(absolute)', which must name a file beneath the root without '.' or '..'",
                            errno: EINVAL)
        }
        guard let root = try openRoot(creating: mode) else { return nil }
        var directories = [root]
        var followed: [String] = []
        func outOfRoot(_ why: String) -> HostError {
            HostError(operation: "refusing to follow", subject: "\(followed.joined(separator: ", then ")) out of --root (\(why)); "
                      + "lvs-node works only beneath it", errno: ELOOP)
        }
        while let name = pending.popLast() {
            if name == "." { continue }
            if name == ".." {
                if directories.count > 1 {
                    directories.removeLast()
                } else if links == .beneath && self.root != "/" {
                    throw outOfRoot("'..' above the root")
                }
                continue
            }
            let directory = directories[directories.count - 1]
            if pending.isEmpty && !followingTheLast { return (directory, name) }
            if let target = try directory.linkTarget(name) {
                followed.append("the symlink \(directory.path(of: name)) → \(target)")
                guard followed.count <= Self.maximumLinks else { throw outOfRoot("more than \(Self.maximumLinks) links") }
                if target.hasPrefix("/") {
                    guard links == .asIfChrooted || self.root == "/" else { throw outOfRoot("an absolute target") }
                    directories = [root]
                }
                pending += target.split(separator: "/").map(String.init).reversed()
            } else if pending.isEmpty {
                return (directory, name)
            } else {
                guard let next = try directory.subdirectory(name, creating: mode) else { return nil }
                directories.append(next)
            }
        }
        return nil
    }

    /// As the kernel's own limit on links in one lookup.
    static let maximumLinks = 40

    /// The bytes of the regular file `absolute` names, reached as a process chrooted to the root
    /// would reach it, links included (`/etc/os-release -> ../usr/lib/os-release`; cloud-init's
    /// `/var/lib/cloud/instance -> /var/lib/cloud/instances/ID`); nil when it does not exist.
    public func readFollowingLinksInside(_ absolute: String, limit: Int = DurableFiles.readLimit) throws -> [UInt8]? {
        guard let (directory, name) = try resolve(absolute, creating: nil, links: .asIfChrooted, followingTheLast: true) else { return nil }
        return try directory.read(name, limit: limit)
    }

    /// The root itself, as the user named it (links in `--root` are the user's choice); a missing
    /// root is made when writing, as a fresh image folder would be.
    func openRoot(creating mode: mode_t?) throws -> OpenDirectory? {
        do {
            return try OpenDirectory.open(root)
        } catch let error as HostError where error.code == .errno(ENOENT) {
            guard let mode else { return nil }
            try DurableFiles.makeDirectories(root, mode: mode)
            return try OpenDirectory.open(root)
        }
    }

    /// What is at `absolute`, its last component not followed; nil when nothing is.
    public func inspect(_ absolute: String) throws -> DurableFiles.Entry? {
        guard let (directory, name) = try parent(of: absolute) else { return nil }
        return try directory.inspect(name)
    }

    /// The bytes of the regular file at `absolute`, or nil when it does not exist.
    public func read(_ absolute: String) throws -> [UInt8]? {
        guard let (directory, name) = try parent(of: absolute) else { return nil }
        return try directory.read(name)
    }

    /// Writes `absolute` atomically, creating missing directories on the way (0755).
    public func writeAtomically(_ absolute: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let (directory, name) = try parent(of: absolute, creating: 0o755)!
        try directory.writeAtomically(name, bytes, mode: mode)
    }

    /// Puts a symlink at `absolute`, creating missing directories on the way (0755).
    public func placeSymlink(_ absolute: String, target: String) throws {
        let (directory, name) = try parent(of: absolute, creating: 0o755)!
        try directory.placeSymlink(name, target: target)
    }

    /// Appends to `absolute`, creating it (0600) and missing directories on the way (0755).
    public func append(_ absolute: String, _ bytes: [UInt8], sync: Bool) throws {
        let (directory, name) = try parent(of: absolute, creating: 0o755)!
        try directory.append(name, bytes, sync: sync)
    }

    /// Removes the file or link at `absolute` (never what a link points to); nothing there is fine.
    public func remove(_ absolute: String) throws {
        guard let (directory, name) = try parent(of: absolute) else { return }
        try directory.remove(name)
    }

    /// Removes the directory `absolute` if it is empty; false when it is not (or is not there).
    public func removeEmptyDirectory(_ absolute: String) throws -> Bool {
        guard let (directory, name) = try parent(of: absolute) else { return false }
        return try directory.removeEmptyDirectory(name)
    }

    /// Creates the directory `absolute` with `mode`, and the missing ones on the way (0755).
    public func makeDirectories(_ absolute: String, mode: mode_t = 0o755) throws {
        let (directory, name) = try parent(of: absolute, creating: 0o755)!
        _ = try directory.subdirectory(name, creating: mode)
    }

    /// Removes what an interrupted write of `absolute` left: its temporary file or link, if it is one
    /// (a directory by that name is not lvs-node's and stays). A link or a missing directory on the
    /// way means lvs-node never wrote there, so there is nothing to remove.
    public func removeTemporary(of absolute: String) throws {
        let resolved: (OpenDirectory, String)?
        do {
            resolved = try parent(of: absolute)
        } catch let error as HostError where error.code == .errno(ELOOP) || error.code == .errno(ENOTDIR) {
            return
        }
        guard let (directory, name) = resolved else { return }
        let temporary = name + OpenDirectory.temporarySuffix
        switch try directory.inspect(temporary) {
        case .file?, .symlink?: try directory.remove(temporary)
        case .other?, nil: return
        }
    }
}
