import Glibc

/// The state directory's lock: one writer at a time (exclusive), and readers that never see a run
/// half-way (shared). Held only inside `withLock`, so its scope is the code it guards.
public enum FileLock {
    public enum Mode: Sendable {
        case exclusive
        case shared
    }

    /// Another lvs-node holds the lock (and `wait` ran out).
    public struct Busy: Error, CustomStringConvertible {
        public let path: String
        public let waited: Int
        public var description: String {
            let after = waited > 0 ? " after waiting \(waited) s" : ""
            return "another lvs-node run holds the lock \(path)\(after); try again when it has finished, or pass --wait SECONDS"
        }
    }

    /// The lock file cannot be opened or created: its directory is not one (a regular file in the way),
    /// or cannot be written.
    public struct CannotOpen: Error, CustomStringConvertible {
        public let path: String
        public let error: HostError
        public var description: String {
            "cannot use the state directory's lock \(path) (\(error.detail)); give --state-dir a directory lvs-node can create and write"
        }
    }

    /// Runs `body` holding the lock on `path`, waiting up to `wait` seconds for it. A shared lock on a
    /// lock file that does not exist yet is not needed (nothing has been written), so `body` runs unlocked.
    public static func withLock<T>(_ path: String, _ mode: Mode, wait: Int = 0, _ body: () throws -> T) throws -> T {
        let fd: Int32
        switch mode {
        case .exclusive: fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        case .shared: fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        }
        if fd < 0 {
            if mode == .shared && (errno == ENOENT || errno == EACCES) { return try body() }
            throw CannotOpen(path: path, error: HostError(operation: "opening the lock", subject: path, errno: errno))
        }
        defer { close(fd) }
        try acquire(fd, mode, path: path, wait: wait)
        return try body()
    }

    /// Polls rather than blocking in flock(2): a blocked flock cannot be given a deadline without signals.
    private static func acquire(_ fd: Int32, _ mode: Mode, path: String, wait: Int) throws {
        let operation = (mode == .exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        let deadline = Deadline(seconds: wait)
        while flock(fd, operation) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw HostError(operation: "locking", subject: path, errno: errno)
            }
            if deadline.hasPassed { throw Busy(path: path, waited: wait) }
            usleep(20_000)
        }
    }
}
