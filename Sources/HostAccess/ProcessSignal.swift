internal import CNetlink
import Glibc

/// Signals a daemon by its pid file (keepalived reloads its configuration on SIGHUP), and only that
/// daemon: a pid file can name any process (stale after a crash, the pid reused, or written by
/// someone else), so the process is checked to be the expected program before it is signalled.
public enum ProcessSignal {
    public enum Outcome: Equatable {
        case sent(Glibc.pid_t)
        /// No pid file, no number in it, or no such process: the daemon is not running.
        case notRunning
        /// The pid file names a live process that is not the daemon (`comm` is its name): not
        /// signalled, and the daemon is taken as not running.
        case otherProcess(Glibc.pid_t, comm: String)
    }

    /// A pid file is a few digits; anything bigger is not one.
    public static let pidFileLimit = 64

    /// Sends `signal` to the process `pidFile` names if its name (`/proc/PID/comm`, and the basename
    /// of `/proc/PID/exe` where readable) is `process`. Throws when the pid file is not a regular
    /// file (a directory, FIFO, device, symlink) or is oversized: `checkPidFile` says so up front.
    public static func send(_ signal: Int32, pidFile: String, process: String) throws -> Outcome {
        guard let pid = try readPid(pidFile) else { return .notRunning }
        // A pidfd pins the process: if it exits and its pid is reused between the check and the
        // signal, the signal fails with ESRCH instead of reaching the newcomer.
        let pidfd = pidfd_open(pid, 0)
        if pidfd < 0 && errno == ESRCH { return .notRunning }
        defer { if pidfd >= 0 { close(pidfd) } }
        guard let comm = name(of: pid) else { return .notRunning }
        guard comm == String(decoding: process.utf8.prefix(15), as: UTF8.self), executableMatches(pid, process) else {
            return .otherProcess(pid, comm: comm)
        }
        let rc = pidfd >= 0 ? pidfd_send_signal(pidfd, signal, nil, 0) : kill(pid, signal)
        if rc == 0 { return .sent(pid) }
        if errno == ESRCH { return .notRunning }
        throw HostError(operation: "signalling", subject: "process \(pid) (\(process), from \(pidFile))", errno: errno)
    }

    /// Throws, naming the path, when `pidFile` exists but is not a small regular file; what a run
    /// checks before it changes anything, so a reload cannot fail after the change for this reason.
    public static func checkPidFile(_ pidFile: String) throws {
        _ = try readPid(pidFile)
    }

    /// SIGHUP, SIGUSR1 … by the name a role gives (`HUP`).
    public static func number(named name: String) -> Int32? {
        ["HUP": SIGHUP, "USR1": SIGUSR1, "USR2": SIGUSR2, "TERM": SIGTERM][name]
    }

    /// The pid in the file, or nil when there is no file or no plausible pid in it (a stale or half-written
    /// file means no daemon to tell). Opened without following a link and without blocking (a FIFO
    /// would otherwise wait for a writer forever), then checked to be a regular file before reading.
    static func readPid(_ pidFile: String) throws -> pid_t? {
        let fd = open(pidFile, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw HostError(operation: "reading the pid file", subject: "\(pidFile) (a symbolic link)", errno: ELOOP) }
            throw HostError(operation: "reading the pid file", subject: pidFile, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw HostError(operation: "reading the pid file", subject: pidFile, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw HostError(operation: "reading the pid file", subject: "\(pidFile) (\(kind(info.st_mode)), not a regular file)", errno: EINVAL)
        }
        guard info.st_size <= pidFileLimit else {
            throw HostError(operation: "reading the pid file", subject: "\(pidFile) (\(info.st_size) bytes; a pid file holds a number)", errno: EFBIG)
        }
        var buffer = [UInt8](repeating: 0, count: pidFileLimit + 1)
        var count = 0
        repeat { count = read(fd, &buffer, buffer.count) } while count < 0 && errno == EINTR
        guard count >= 0 else { throw HostError(operation: "reading the pid file", subject: pidFile, errno: errno) }
        guard count <= pidFileLimit else {
            throw HostError(operation: "reading the pid file", subject: "\(pidFile) (more than \(pidFileLimit) bytes)", errno: EFBIG)
        }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingWhitespace()
        // pid_max is at most 2^22; 1 is init, which a reload must never reach.
        guard !text.isEmpty, text.utf8.count <= 7, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let pid = pid_t(text), pid > 1 else { return nil }
        return pid
    }

    /// The kernel's name of the process (its executable's basename, at most 15 bytes), nil once it is gone.
    private static func name(of pid: pid_t) -> String? {
        let fd = open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingWhitespace()
    }

    /// The basename of the process's executable is `process` (an upgraded binary reads "… (deleted)").
    /// Unreadable (a kernel thread, no permission) leaves the decision to the name.
    private static func executableMatches(_ pid: pid_t, _ process: String) -> Bool {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return true }
        var path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
        return path.split(separator: "/").last.map(String.init) == process
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "a special file"
        }
    }
}
