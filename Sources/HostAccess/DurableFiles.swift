import Glibc

/// File operations with the guarantees the journal and the persisted files need: atomic replacement
/// (temporary file, fsync, rename, fsync of the directory), never following a symlink at the target,
/// and errors that name the file.
public enum DurableFiles {
    /// The bytes of `path`, or nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw HostError(operation: "opening", subject: path, errno: errno)
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: "reading", subject: path, errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Replaces `path` with `bytes` so a reader sees the old file or the new one, never a mix.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        try refuseSymlink(path)
        let temporary = "\(path).lvs-node-tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw HostError(operation: "creating", subject: temporary, errno: errno) }
        do {
            try writeAll(fd, bytes, path: temporary)
            guard fchmod(fd, mode) == 0 else { throw HostError(operation: "setting the mode of", subject: temporary, errno: errno) }
            // Configuration is root's, whatever group a set-gid directory would hand out.
            if geteuid() == 0 && fchown(fd, 0, 0) != 0 {
                throw HostError(operation: "setting the owner of", subject: temporary, errno: errno)
            }
            guard fsync(fd) == 0 else { throw HostError(operation: "syncing", subject: temporary, errno: errno) }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let saved = errno
            unlink(temporary)
            throw HostError(operation: "renaming into place", subject: path, errno: saved)
        }
        try syncDirectory(of: path)
    }

    /// Appends one record in one write; with `sync`, returns only once it is on disk (the journal's
    /// write-ahead guarantee).
    public static func append(_ path: String, _ bytes: [UInt8], sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw HostError(operation: "opening", subject: path, errno: errno) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        if sync && fdatasync(fd) != 0 { throw HostError(operation: "syncing", subject: path, errno: errno) }
    }

    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw HostError(operation: "removing", subject: path, errno: errno) }
        try syncDirectory(of: path)
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` and its missing parents.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw HostError(operation: "creating the directory", subject: current, errno: errno)
            }
        }
    }

    /// Names in a directory (no `.`/`..`), or an empty list when it does not exist.
    public static func list(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw HostError(operation: "listing", subject: directory, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// What is at a path, without following a symlink there.
    public enum Entry: Equatable, Sendable {
        case file(mode: mode_t, bytes: [UInt8])
        case symlink(target: String)
        /// A directory, device or socket: nothing lvs-node writes.
        case other(String)
    }

    public static func inspect(_ path: String) throws -> Entry? {
        var info = stat()
        if lstat(path, &info) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw HostError(operation: "inspecting", subject: path, errno: errno)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return .file(mode: info.st_mode & 0o7777, bytes: try read(path) ?? [])
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(path, &buffer, buffer.count - 1)
            guard count >= 0 else { throw HostError(operation: "reading the link", subject: path, errno: errno) }
            return .symlink(target: String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case S_IFDIR: return .other("a directory")
        default: return .other("a special file")
        }
    }

    /// Puts a symlink at `path` (replacing a file or link there) in one rename.
    public static func placeSymlink(_ path: String, target: String) throws {
        let temporary = "\(path).lvs-node-tmp"
        unlink(temporary)
        guard symlink(target, temporary) == 0 else { throw HostError(operation: "creating the link", subject: path, errno: errno) }
        guard rename(temporary, path) == 0 else {
            let saved = errno
            unlink(temporary)
            throw HostError(operation: "renaming the link into place", subject: path, errno: saved)
        }
        try syncDirectory(of: path)
    }

    /// The directory part of a path.
    public static func parent(of path: String) -> String {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory.isEmpty ? "/" : directory
    }

    private static func refuseSymlink(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
            throw HostError(operation: "refusing to write through the symlink", subject: path, errno: ELOOP)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: "writing", subject: path, errno: errno)
            }
            offset += written
        }
    }

    private static func syncDirectory(of path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = fsync(fd)
    }
}
