import Glibc

/// A directory held open by its descriptor. Every operation names an entry of this very directory
/// (`openat`, `renameat`, `unlinkat`, … on the descriptor), so what a path resolved to once is what is
/// written, and no operation follows a symlink at the entry it acts on.
public final class OpenDirectory {
    /// The suffix of the temporary name a file or link is prepared under before its rename into place.
    public static let temporarySuffix = ".lvs-node-tmp"

    let descriptor: Int32
    /// The directory's path, for messages only.
    public let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Opens the directory at `path`, resolved as the caller gave it.
    public static func open(_ path: String) throws -> OpenDirectory {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw HostError(operation: "opening the directory", subject: path, errno: errno) }
        return OpenDirectory(descriptor: descriptor, path: path)
    }

    /// `name` as a path, for messages.
    public func path(of name: String) -> String { path == "/" ? "/\(name)" : "\(path)/\(name)" }

    /// The directory `name` in this one, never through a symlink: nil when it does not exist and
    /// `creating` is nil, else created with that mode. A symlink there is refused, naming it (the
    /// caller decides which links to follow, by their targets).
    public func subdirectory(_ name: String, creating mode: mode_t? = nil) throws -> OpenDirectory? {
        while true {
            let opened = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if opened >= 0 { return OpenDirectory(descriptor: opened, path: path(of: name)) }
            let failure = errno
            switch (failure, mode) {
            case (EINTR, _): continue
            case (ENOENT, nil): return nil
            case (ENOENT, let mode?):
                // EEXIST: made meanwhile; the next open says whether it is a directory.
                if mkdirat(descriptor, name, mode) != 0 && errno != EEXIST {
                    throw HostError(operation: "creating the directory", subject: path(of: name), errno: errno)
                }
            case (ELOOP, _), (ENOTDIR, _):
                if case .symlink(let target)? = try inspect(name) {
                    throw HostError(operation: "refusing to go through the symlink",
                                    subject: "\(path(of: name)) → \(target) where a directory was expected",
                                    errno: ELOOP)
                }
                throw HostError(operation: "opening the directory", subject: path(of: name), errno: ENOTDIR)
            default:
                throw HostError(operation: "opening the directory", subject: path(of: name), errno: failure)
            }
        }
    }

    /// What is at `name`, without following a symlink there; nil when nothing is.
    public func inspect(_ name: String) throws -> DurableFiles.Entry? {
        var info = stat()
        if fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw HostError(operation: "inspecting", subject: path(of: name), errno: errno)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return .file(mode: info.st_mode & 0o7777, bytes: try read(name) ?? [])
        case S_IFLNK:
            guard let target = try linkTarget(name) else {
                throw HostError(operation: "reading the link", subject: "\(path(of: name)), which changed while being read", errno: ENOENT)
            }
            return .symlink(target: target)
        case S_IFDIR: return .other("a directory")
        case S_IFIFO: return .other("a FIFO")
        case S_IFSOCK: return .other("a socket")
        case S_IFCHR: return .other("a character device")
        case S_IFBLK: return .other("a block device")
        default: return .other("a special file")
        }
    }

    /// Where the symlink `name` points; nil when `name` is not a symlink or does not exist.
    public func linkTarget(_ name: String) throws -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(descriptor, name, &buffer, buffer.count - 1)
        if count < 0 {
            if errno == EINVAL || errno == ENOENT || errno == ENOTDIR { return nil }
            throw HostError(operation: "reading the link", subject: path(of: name), errno: errno)
        }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes of the regular file `name`, or nil when nothing is there. Opened without blocking and
    /// checked after opening, so a FIFO or device put there meanwhile is refused, not waited on.
    public func read(_ name: String, limit: Int = DurableFiles.readLimit) throws -> [UInt8]? {
        let opened = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        if opened < 0 {
            if errno == ENOENT { return nil }
            throw HostError(operation: "opening", subject: path(of: name), errno: errno)
        }
        defer { close(opened) }
        var info = stat()
        guard fstat(opened, &info) == 0 else { throw HostError(operation: "inspecting", subject: path(of: name), errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw HostError(operation: "refusing to read", subject: "\(path(of: name)), which is not a regular file", errno: EINVAL)
        }
        return try DurableFiles.readAll(opened, path: path(of: name), limit: limit)
    }

    /// Replaces `name` with `bytes` so a reader sees the old file or the new one, never a mix: a new
    /// temporary file (never one that was there), fsync, rename, fsync of this directory.
    public func writeAtomically(_ name: String, _ bytes: [UInt8], mode: mode_t) throws {
        if case .symlink? = try inspect(name) {
            throw HostError(operation: "refusing to write through the symlink", subject: path(of: name), errno: ELOOP)
        }
        let temporary = name + Self.temporarySuffix
        let file = try createNew(temporary, mode: mode)
        do {
            try DurableFiles.writeAll(file, bytes, path: path(of: temporary))
            guard fchmod(file, mode) == 0 else { throw HostError(operation: "setting the mode of", subject: path(of: temporary), errno: errno) }
            // Configuration is root's, whatever group a set-gid directory would hand out.
            if geteuid() == 0 && fchown(file, 0, 0) != 0 {
                throw HostError(operation: "setting the owner of", subject: path(of: temporary), errno: errno)
            }
            guard fsync(file) == 0 else { throw HostError(operation: "syncing", subject: path(of: temporary), errno: errno) }
            close(file)
        } catch {
            close(file)
            unlinkat(descriptor, temporary, 0)
            throw error
        }
        try rename(temporary, to: name, what: "renaming into place")
    }

    /// Puts a symlink at `name` (replacing a file or link there) in one rename.
    public func placeSymlink(_ name: String, target: String) throws {
        let temporary = name + Self.temporarySuffix
        while symlinkat(target, descriptor, temporary) != 0 {
            guard errno == EEXIST else { throw HostError(operation: "creating the link", subject: path(of: name), errno: errno) }
            try discard(temporary)
        }
        try rename(temporary, to: name, what: "renaming the link into place")
    }

    /// Appends one record in one write; with `sync`, returns only once it is on disk.
    public func append(_ name: String, _ bytes: [UInt8], sync: Bool) throws {
        let file = openat(descriptor, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0o600)
        guard file >= 0 else { throw HostError(operation: "opening", subject: path(of: name), errno: errno) }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw HostError(operation: "refusing to append to", subject: "\(path(of: name)), which is not a regular file", errno: EINVAL)
        }
        // Empty: this call made it (or an earlier one left it empty). Its name must reach the disk too,
        // or a synced record could still vanish with the directory entry after a crash.
        let isNew = info.st_size == 0
        try DurableFiles.writeAll(file, bytes, path: path(of: name))
        guard sync else { return }
        if fdatasync(file) != 0 { throw HostError(operation: "syncing", subject: path(of: name), errno: errno) }
        if isNew && fsync(descriptor) != 0 { throw HostError(operation: "syncing the directory of", subject: path(of: name), errno: errno) }
    }

    /// Removes the entry `name` (a file or a link, never what a link points to); nothing there is fine.
    public func remove(_ name: String) throws {
        if unlinkat(descriptor, name, 0) != 0 && errno != ENOENT {
            throw HostError(operation: "removing", subject: path(of: name), errno: errno)
        }
        sync()
    }

    /// Removes the directory `name` if it is empty; false (and nothing changed) when it is not, or is gone.
    public func removeEmptyDirectory(_ name: String) throws -> Bool {
        if unlinkat(descriptor, name, AT_REMOVEDIR) == 0 {
            sync()
            return true
        }
        if errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT { return false }
        throw HostError(operation: "removing the directory", subject: path(of: name), errno: errno)
    }

    /// Makes this directory's entries durable (after a rename or unlink).
    public func sync() { _ = fsync(descriptor) }

    /// A new file, created here and now: a file or hard link already at the name (an interrupted
    /// run's, or placed there) is unlinked, which never changes the file a hard link points to.
    private func createNew(_ name: String, mode: mode_t) throws -> Int32 {
        while true {
            let file = openat(descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if file >= 0 { return file }
            guard errno == EEXIST || errno == EINTR else { throw HostError(operation: "creating", subject: path(of: name), errno: errno) }
            if errno == EEXIST { try discard(name) }
        }
    }

    /// Unlinks a leftover temporary name; a directory there is not lvs-node's and is refused.
    private func discard(_ name: String) throws {
        if unlinkat(descriptor, name, 0) != 0 && errno != ENOENT {
            throw HostError(operation: "removing the leftover", subject: path(of: name), errno: errno)
        }
    }

    private func rename(_ temporary: String, to name: String, what: String) throws {
        guard renameat(descriptor, temporary, descriptor, name) == 0 else {
            let saved = errno
            unlinkat(descriptor, temporary, 0)
            throw HostError(operation: what, subject: path(of: name), errno: saved)
        }
        sync()
    }
}
