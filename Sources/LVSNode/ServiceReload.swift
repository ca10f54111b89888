import Engine
import HostAccess
import NodeModel
import Steps

/// Role file steps with `reload: {pidfile: …, signal: HUP, process: keepalived}`: the daemon reading
/// the file is told to read it again, only when a run changed it, and only if the pid file names
/// that daemon (`process`, the name the kernel gives it in /proc/PID/comm).
struct ServiceReload {
    let path: String
    let pidFile: String
    let signal: Int32
    let signalName: String
    let process: String

    /// The reloads a role declares; a malformed one is a role error.
    static func declared(in role: Role) throws -> [ServiceReload] {
        try role.steps.compactMap { step in
            guard let reload = step.setting("reload") else { return nil }
            let fields = try reload.map("reload", allowed: ["pidfile", "signal", "process"])
            let pidFile = try fields.first { $0.key == "pidfile" }?.value.string("pidfile")
            let name = try fields.first { $0.key == "signal" }?.value.string("signal") ?? "HUP"
            let process = try fields.first { $0.key == "process" }?.value.string("process")
            guard let pidFile, pidFile.hasPrefix("/"), let signal = ProcessSignal.number(named: name),
                  let process, !process.isEmpty, !process.contains("/") else {
                throw SpecError(reload.location, "reload needs pidfile: /ABSOLUTE/PATH, signal: HUP, USR1, USR2 or TERM, "
                                + "and process: NAME (the daemon's program name, checked before it is signalled)")
            }
            return ServiceReload(path: try step.requiredSetting("path").string("path"), pidFile: pidFile, signal: signal,
                                 signalName: name, process: process)
        }
    }

    /// Checks the pid file of every daemon whose file `changes` touch, before any change: one that is a directory, a FIFO,
    /// a link or oversized is an error naming it, not a reload that fails after the run changed the host.
    static func preflight(role: Role, root: HostRoot, changes: [Change]) throws {
        let changed = Set(changes.filter { $0.kind == FileDriver.kindName }.map(\.subject))
        for reload in try declared(in: role) where changed.contains(reload.path) {
            try ProcessSignal.checkPidFile(root.path(reload.pidFile))
        }
    }

    /// Signals each daemon whose file `changes` touched; returns what was done, for the report.
    static func afterRun(_ changes: [Change], role: Role, root: HostRoot) throws -> [String] {
        let changed = Set(changes.filter { $0.kind == FileDriver.kindName }.map(\.subject))
        return try declared(in: role).filter { changed.contains($0.path) }.map { reload in
            switch try ProcessSignal.send(reload.signal, pidFile: root.path(reload.pidFile), process: reload.process) {
            case .sent(let pid):
                return "reloaded \(reload.path): SIG\(reload.signalName) to process \(pid)"
            case .notRunning:
                return "\(reload.path) changed; its daemon is not running (no live process in \(reload.pidFile)), so it takes effect when it starts"
            case .otherProcess(let pid, let comm):
                return "\(reload.path) changed; \(reload.process) is not running: \(reload.pidFile) names process \(pid), which is '\(comm)', "
                    + "not \(reload.process), so nothing was signalled; the file takes effect when \(reload.process) starts"
            }
        }
    }
}
