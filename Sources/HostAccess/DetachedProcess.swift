import Glibc

/// Starts a program that outlives its caller and the caller's login: in a session of its own (so a
/// SIGHUP to the caller's process group or terminal never reaches it, not even one sent the instant
/// the caller exits: the new session exists before the program runs), with standard input and
/// output on /dev/null and every other descriptor closed (a closed SSH channel cannot hurt it, and
/// it holds none of its caller's pipes open), and no blocked signals. Not waited
/// for: once the caller exits, init reaps it.
public enum DetachedProcess {
    /// glibc's POSIX_SPAWN_SETSID (2.26 and later): the child calls setsid() before it runs the program.
    /// Swift's Glibc module does not export it (it sits behind __USE_GNU).
    static let newSession: Int32 = 0x80

    @discardableResult
    public static func start(_ executable: String, _ arguments: [String]) throws -> pid_t {
        // Nothing else the caller holds open: a pipe its own caller waits on for EOF (an SSH channel,
        // Ansible's, a test runner's) would otherwise stay open until the deadline and hang that caller.
        // (posix_spawn's closefrom action is not visible to Swift; lvs-node passes no descriptor to any child.)
        markInheritedDescriptorsCloseOnExec()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        let (spawned, pid) = Spawn.start(executable, arguments, &actions, flags: Self.newSession)
        guard spawned == 0 else {
            if spawned == ENOENT { throw ProcessRunner.MissingProgram(path: executable) }
            throw HostError(operation: "starting", subject: executable, errno: spawned)
        }
        return pid
    }

    /// Sets FD_CLOEXEC on every descriptor above 2 this process has (/proc/self/fd).
    static func markInheritedDescriptorsCloseOnExec() {
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name), fd > 2, fd != own else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}
