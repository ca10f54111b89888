import Glibc

/// posix_spawn as lvs-node starts every program: the child gets SIGPIPE back (the agent's own choice to
/// ignore it is not the child's) and starts with nothing blocked; other ignored signals (nohup's SIGHUP)
/// are the operator's and stay. `flags` adds spawn flags (a session of its own).
enum Spawn {
    /// posix_spawn's result (0 or an errno) and the child's pid.
    static func start(_ executable: String, _ arguments: [String], _ actions: inout posix_spawn_file_actions_t,
                      flags: Int32 = 0) -> (status: Int32, pid: pid_t) {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), none = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(flags | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        return (status, pid)
    }
}
