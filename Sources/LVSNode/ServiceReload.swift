import Engine
import HostAccess
import NodeModel
import Steps

/// Role file steps with `reload: {pidfile: …, signal: HUP}`: the daemon reading the file is told
/// to read it again, only when a run changed it.
struct ServiceReload {
    let path: String
    let pidFile: String
    let signal: Int32
    let signalName: String

    /// The reloads a role declares; a malformed one is a role error.
    static func declared(in role: Role) throws -> [ServiceReload] {
        try role.steps.compactMap { step in
            guard let reload = step.setting("reload") else { return nil }
            let fields = try reload.map("reload", allowed: ["pidfile", "signal"])
            let pidFile = try fields.first { $0.key == "pidfile" }?.value.string("pidfile")
            let name = try fields.first { $0.key == "signal" }?.value.string("signal") ?? "HUP"
            guard let pidFile, let signal = ProcessSignal.number(named: name) else {
                throw SpecError(reload.location, "reload needs pidfile: PATH and signal: HUP, USR1, USR2 or TERM")
            }
            return ServiceReload(path: try step.requiredSetting("path").string("path"), pidFile: pidFile, signal: signal, signalName: name)
        }
    }

    /// Signals each daemon whose file `changes` touched; returns what was done, for the report.
    static func afterRun(_ changes: [Change], role: Role, root: HostRoot) throws -> [String] {
        let changed = Set(changes.filter { $0.kind == FileDriver.kindName }.map(\.subject))
        return try declared(in: role).filter { changed.contains($0.path) }.map { reload in
            switch try ProcessSignal.send(reload.signal, pidFile: root.path(reload.pidFile)) {
            case .sent(let pid): return "reloaded \(reload.path): SIG\(reload.signalName) to process \(pid)"
            case .notRunning: return "\(reload.path) changed; its daemon is not running (no live process in \(reload.pidFile)), so it takes effect when it starts"
            }
        }
    }
}
