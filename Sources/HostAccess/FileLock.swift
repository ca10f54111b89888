import Glibc

/// An exclusive lock on a file, held until the object goes away, so two runs never interleave.
public final class FileLock {
    private let fd: Int32

    public init(_ path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HostError(operation: "opening the lock", subject: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let saved = errno
            close(fd)
            throw HostError(operation: "locking (is another lvs-node running?)", subject: path, errno: saved)
        }
    }

    deinit { close(fd) }
}
