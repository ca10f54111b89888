import Glibc

/// Files beneath the root, resolved from a descriptor of the root one component at a time with
/// `O_NOFOLLOW`: a symlink anywhere on the way (`<root>/etc/netplan -> /elsewhere`) is refused, never
/// followed, so nothing is read, written, created or removed outside the root. The last component
/// is acted on with `*at` calls that do not follow it either (a symlink there is replaced or read
/// as a link, as the file steps want).
extension HostRoot {
    /// The directory holding `absolute` and the entry's name in it; nil when a directory on the way
    /// does not exist and `creating` is nil (else missing ones are made with that mode).
    public func parent(of absolute: String, creating mode: mode_t? = nil) throws -> (OpenDirectory, String)? {
        let components = absolute.split(separator: "/").map(String.init)
        guard let name = components.last, !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw HostError(operation: "refusing the path", subject: "'\(absolute)', which must name a file beneath the root without '.' or '..'",
                            errno: EINVAL)
        }
        guard var directory = try openRoot(creating: mode) else { return nil }
        for component in components.dropLast() {
            guard let next = try directory.subdirectory(component, creating: mode) else { return nil }
            directory = next
        }
        return (directory, name)
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
