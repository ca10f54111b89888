import Glibc

/// File operations with the guarantees the journal and the persisted files need: atomic replacement
/// (temporary file, fsync, rename, fsync of the directory), never following a symlink at the target,
/// and errors that name the file.
public enum DurableFiles {
    /// The most any file lvs-node reads back may hold: a generation of 10,000 services is tens of MB.
    public static let readLimit = 256 << 20

    /// The bytes of the regular file at `path`, or nil when nothing is there. Never blocks (a FIFO is
    /// refused, not waited on) and never reads past `limit`.
    public static func read(_ path: String, limit: Int = readLimit) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw HostError(operation: "opening", subject: path, errno: errno)
        }
        defer { close(fd) }
        let size = try requireRegularFile(fd, path: path)
        return try readAll(fd, path: path, limit: limit, expected: size)
    }

    /// Returns the file's size.
    @discardableResult
    static func requireRegularFile(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw HostError(operation: "inspecting", subject: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw HostError(operation: "refusing to read", subject: "\(path), which is not a regular file", errno: EINVAL)
        }
        return Int(info.st_size)
    }

    /// Replaces `path` with `bytes` so a reader sees the old file or the new one, never a mix.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        try OpenDirectory.open(parent(of: path)).writeAtomically(name(of: path), bytes, mode: mode)
    }

    /// Appends one record in one write; with `sync`, returns only once it is on disk (the journal's
    /// write-ahead guarantee).
    public static func append(_ path: String, _ bytes: [UInt8], sync: Bool) throws {
        try OpenDirectory.open(parent(of: path)).append(name(of: path), bytes, sync: sync)
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
        /// A directory, FIFO, socket or device, in words ("a FIFO"): nothing lvs-node writes or can put back.
        case other(String)
    }

    public static func inspect(_ path: String) throws -> Entry? {
        let directory: OpenDirectory
        do {
            directory = try OpenDirectory.open(parent(of: path))
        } catch let error as HostError where error.code == .errno(ENOENT) || error.code == .errno(ENOTDIR) {
            return nil
        }
        return try directory.inspect(name(of: path))
    }

    /// Puts a symlink at `path` (replacing a file or link there) in one rename.
    public static func placeSymlink(_ path: String, target: String) throws {
        try OpenDirectory.open(parent(of: path)).placeSymlink(name(of: path), target: target)
    }

    /// The directory part of a path.
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `expected`: the size the file had when opened. Read straight into room for that (and one byte
    /// more, to see that it grew): growing by doubling from 64 KiB chunks held two and a half times a
    /// generation of a thousand VIPs at the peak of a run.
    static func readAll(_ fd: Int32, path: String, limit: Int = readLimit, expected: Int = 0) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: min(max(expected, 0), limit) + 1)
        var filled = 0
        while true {
            if filled == result.count {
                // filled <= limit here, so there is room for at least one more byte up to limit + 1.
                result.append(contentsOf: repeatElement(0, count: min(max(result.count, 65536), limit + 1 - result.count)))
            }
            let count = result.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: "reading", subject: path, errno: errno)
            }
            if count == 0 {
                result.removeLast(result.count - filled)
                return result
            }
            filled += count
            guard filled <= limit else {
                throw HostError(operation: "refusing to read more than \(limit >> 20) MiB of", subject: path, errno: EFBIG)
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
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
