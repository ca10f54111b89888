import Foundation

/// One invocation of a system call in a traced run: strace's `when=N` names it by the call's name
/// and its occurrence among that process's calls of the same name (counted from 1).
public struct SyscallPoint: CustomStringConvertible, Sendable {
    public let name: String
    public let occurrence: Int
    /// The call as strace printed it in the traced run.
    public let line: String
    /// The file a call on a descriptor (write, fsync, fchmod …) was made on, when the trace shows
    /// where the descriptor was opened.
    public let path: String?
    public var description: String { "\(name)#\(occurrence)\(path.map { " on \($0)" } ?? "") \(line.prefix(160))" }
}

/// Fault injection into the real binary with strace (`-e inject=NAME:signal=KILL:when=N` or
/// `error=ENOSPC`): a kill or a failure at exactly one system call, the rest of the run untouched.
public enum SyscallFaults {
    public static let strace = which("strace")

    /// Why fault injection cannot run here, or nil when it can.
    public static let unavailableReason: String? = {
        if let reason = NetworkNamespace.unavailableReason { return reason }
        guard strace != nil else { return "needs strace for syscall fault injection (apt-get install strace)" }
        return nil
    }()

    /// Every system call that can change the host or the state directory.
    public static let mutatingNames = ["write", "pwrite64", "writev", "sendmsg", "sendto", "openat", "rename", "renameat", "renameat2",
                                       "unlink", "unlinkat", "mkdir", "mkdirat", "symlink", "symlinkat", "fchmod", "fchown",
                                       "fsync", "fdatasync", "ftruncate"]

    /// Runs `arguments` (the binary first) in the namespace under strace and returns the calls of
    /// `names` that change something, in the order they were made. Calls that only read (openat
    /// without O_CREAT, netlink dumps, writes to standard output or error, a mkdir that found the
    /// directory) are left out; the occurrence numbers still count them, as strace does.
    public static func mutatingCalls(in namespace: NetworkNamespace, _ arguments: [String], names: [String] = mutatingNames,
                                     scratch: String) throws -> (points: [SyscallPoint], result: ProcessResult) {
        let log = scratch + "/strace.log"
        let result = try namespace.run(strace!, ["-o", log, "-qq", "-s", "256", "-e", "trace=" + names.joined(separator: ","), "--"] + arguments)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: log)
        var counts: [String: Int] = [:]
        var points: [SyscallPoint] = []
        var openFiles: [Substring: String] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            guard !line.contains("resumed>"), let open = line.firstIndex(of: "(") else { continue }
            let name = String(line[..<open])
            guard names.contains(name) else { continue }
            counts[name, default: 0] += 1
            let arguments = line[line.index(after: open)...]
            let descriptor = arguments.prefix { $0.isNumber }
            if name == "openat", let path = arguments.split(separator: "\"").dropFirst().first,
               let result = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), Int(result) != nil {
                openFiles[Substring(result)] = String(path)
            }
            if mutates(name, line) {
                let path = descriptor.isEmpty ? nil : openFiles[descriptor]
                points.append(SyscallPoint(name: name, occurrence: counts[name]!, line: line, path: path))
            }
        }
        return (points, result)
    }

    static func mutates(_ name: String, _ line: String) -> Bool {
        let arguments = line.drop { $0 != "(" }.dropFirst()
        switch name {
        case "write", "pwrite64", "writev":
            return !(arguments.hasPrefix("1,") || arguments.hasPrefix("2,"))
        case "openat":
            return line.contains("O_CREAT") || line.contains("O_TRUNC")
        case "sendmsg", "sendto":
            return !line.contains("NLM_F_DUMP") && !line.contains("GETFAMILY")
        case "mkdir", "mkdirat":
            return !line.contains("EEXIST")
        default:
            return true
        }
    }

    /// Runs `arguments` in the namespace with `action` (`signal=KILL`, `error=ENOSPC`, …) injected at
    /// the point's invocation only.
    public static func run(in namespace: NetworkNamespace, _ arguments: [String], injecting action: String, at point: SyscallPoint) throws -> ProcessResult {
        try namespace.run(strace!, ["-o", "/dev/null", "-qq", "-e", "trace=" + point.name,
                                    "-e", "inject=\(point.name):\(action):when=\(point.occurrence)", "--"] + arguments)
    }

    /// Whether a run under strace ended by SIGKILL (strace re-raises the tracee's signal, or exits 128+9).
    public static func wasKilled(_ result: ProcessResult) -> Bool { result.status == 9 || result.status == 137 }
}
