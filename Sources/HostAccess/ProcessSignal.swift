import Glibc

/// Signals a daemon by its pid file (keepalived reloads its configuration on SIGHUP).
public enum ProcessSignal {
    public enum Outcome: Equatable {
        case sent(pid_t)
        /// No pid file, or no such process: the daemon is not running.
        case notRunning
    }

    public static func send(_ signal: Int32, pidFile: String) throws -> Outcome {
        guard let bytes = try DurableFiles.read(pidFile),
              let pid = pid_t(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()), pid > 1 else { return .notRunning }
        if kill(pid, signal) == 0 { return .sent(pid) }
        if errno == ESRCH { return .notRunning }
        throw HostError(operation: "signalling", subject: "process \(pid) (from \(pidFile))", errno: errno)
    }

    /// SIGHUP, SIGUSR1 … by the name a role gives (`HUP`).
    public static func number(named name: String) -> Int32? {
        ["HUP": SIGHUP, "USR1": SIGUSR1, "USR2": SIGUSR2, "TERM": SIGTERM][name]
    }
}
