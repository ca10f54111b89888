import CSyslog
import Glibc

/// One line in the system log (syslog(3), so journald too, as identifier `lvs-node`) for every run
/// that changed the host or failed: what the fleet's log collection sees of each host.
enum SystemLog {
    /// The commands that change the host; only these are logged.
    static let changingCommands: Set<String> = ["setup", "rollback", "start", "stop", "cloud-init"]

    /// openlog keeps the pointer it is given, so the identifier lives as long as the process.
    nonisolated(unsafe) private static let identifier: UnsafeMutablePointer<CChar>? = strdup("lvs-node")
    nonisolated(unsafe) private static var opened = false

    /// A finished run: logged when it changed something.
    static func run(_ command: String, generation: Int?, changes: Int, status: Int32) {
        guard changingCommands.contains(command), changes > 0 else { return }
        let what = generation.map { "generation \($0)" } ?? "no generation"
        send(LOG_INFO, "\(command) \(what): \(changes) change\(changes == 1 ? "" : "s"), succeeded (exit \(status))")
    }

    /// Something a confirmation did (kept, or undone at its deadline): logged whatever it changed.
    static func event(_ message: String) { send(LOG_INFO, message) }

    /// A failed run, with the first line of its error.
    static func failure(_ command: String, status: Int32, message: String) {
        guard changingCommands.contains(command) else { return }
        let first = message.split(separator: "\n").first.map(String.init) ?? ""
        send(LOG_ERR, "\(command) failed (exit \(status)): \(first)")
    }

    private static func send(_ priority: Int32, _ message: String) {
        if !opened {
            openlog(identifier, LOG_PID, LOG_DAEMON)
            opened = true
        }
        message.withCString { lvs_node_syslog(priority, $0) }
    }
}
