import ArgumentParser
import Engine
import Glibc
import HostAccess
import LVSNode
import NodeModel

/// The exit statuses, one place: the help text and README list the same.
enum ExitStatus {
    static let success: Int32 = 0
    static let failedAndRestored: Int32 = 1
    static let pending: Int32 = 2
    static let restoreFailed: Int32 = 3
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let missingFeature: Int32 = 69
    static let software: Int32 = 70
    static let cannotCreate: Int32 = 73
    static let ioError: Int32 = 74
    static let busy: Int32 = 75
    static let notPermitted: Int32 = 77

    /// Each line fits 80 columns: argument-parser wraps longer ones back to column 0.
    static let help = """
        Exit statuses:
          0   success; plan: nothing would change; status: the host matches
          1   a change failed and every change of that run was undone
          2   plan: changes are pending; status: the host drifted, or a killed run
              waits to be undone
          3   undoing a failed change failed too: check the listed items by hand
          64  usage error (unknown flag, missing or conflicting options)
          65  bad data (an address, role, mode or spec file); nothing was changed
          69  the kernel lacks a needed feature; nothing was changed
          70  an internal error; nothing was changed
          73  the state directory, or a path under --root, cannot be used safely
              (not a directory, or a link leading out of the root); nothing changed
          74  an I/O error reading the host or the state, or a damaged generation
              or journal; nothing was changed
          75  another lvs-node run holds the lock, or a change awaits confirmation
              (setup); nothing was changed (try again, or pass --wait SECONDS)
          77  not permitted (needs root / CAP_NET_ADMIN); nothing was changed
        """

    /// Runs a command body, printing any error as a sentence on stderr (with --json, as the error
    /// document on stdout) and exiting with its status. A failed run of a command that changes the
    /// host is logged.
    static func guarding(_ command: String, _ output: OutputOptions, _ body: () throws -> Int32) throws {
        let status: Int32
        do {
            status = try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            if output.json {
                JSONOutput.emit(JSONOutput.error(command, status: usage, error: error, message: "error: \(error)"))
                throw ExitCode(usage)
            }
            throw error
        } catch {
            let (code, text) = classify(error)
            SystemLog.failure(command, status: code, message: text)
            if output.json {
                JSONOutput.emit(JSONOutput.error(command, status: code, error: error, message: text))
            } else {
                printError(text)
            }
            throw ExitCode(code)
        }
        if status != success { throw ExitCode(status) }
    }

    static func classify(_ error: Error) -> (Int32, String) {
        switch error {
        // A required flag left out is a usage error; anything wrong in what was given is data.
        case let error as SpecError: return (error.isUsage ? usage : dataError, "error: \(error)")
        case let error as SpecErrors: return (error.isUsage ? usage : dataError, error.errors.map { "error: \($0)" }.joined(separator: "\n"))
        case let error as NotPermitted: return (notPermitted, "error: \(error)")
        case let error as RunFailure: return (error.restored ? failedAndRestored : restoreFailed, "error: \(error)")
        case let error as Recovery.Failed: return (restoreFailed, "error: \(error)")
        case let error as MissingKernelFeature: return (missingFeature, "error: \(error)")
        case let error as FileLock.Busy: return (busy, "error: \(error)")
        case let error as AwaitingConfirmation: return (busy, "error: \(error)")
        case let error as ProcessRunner.MissingProgram: return (missingFeature, "error: \(error); nothing was changed")
        case let error as ProcessRunner.TimedOut: return (ioError, "error: \(error); nothing was changed")
        case let error as StateDirectoryUnusable: return (cannotCreate, "error: \(error)")
        case let error as FileLock.CannotOpen: return (cannotCreate, "error: \(error)")
        // Every change happens inside a run, whose failures are RunFailure: anything else came
        // before the first change.
        case let error as EngineError: return (ioError, "error: \(error)")
        // A link on the way out of --root, or at a pid file: the path cannot be used safely.
        case let error as HostError where error.code == .errno(ELOOP): return (cannotCreate, "error: \(error); nothing was changed")
        // The kernel or a file said no: an IPVS dump needs CAP_NET_ADMIN, a 0700 state directory root.
        case let error as HostError where error.code == .errno(EACCES) || error.code == .errno(EPERM):
            return (notPermitted, "error: \(error): this needs root (CAP_NET_ADMIN); nothing was changed")
        case let error as HostError: return (ioError, "error: \(error); nothing was changed")
        case let error as BatchFailure: return (ioError, "error: \(error); nothing was changed")
        default: return (software, "error: \(error); nothing was changed")
        }
    }

    static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = write(2, bytes, bytes.count)
    }
}
