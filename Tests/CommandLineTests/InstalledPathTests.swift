import Foundation
import Testing
import TestSupport

/// Which path the boot unit that `setup` writes calls lvs-node by (Sources/LVSNode/InstalledPath.swift),
/// read from the unit in the plan's diff. A binary outside /usr/sbin keeps its own path; the packaged
/// /usr/sbin/lvs-node itself, and an upgrade of it during a run, are proven in the installed package by
/// Packaging/test. Read-only plans; as root in a fresh network namespace all the same.
@Suite final class InstalledPathTests {
    let directory = TemporaryDirectory()
    let binary: String

    init() throws {
        mkdir(directory.file("bin"), 0o755)
        binary = URL(fileURLWithPath: directory.file("bin/lvs-node")).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: lvsNodeBinary, toPath: binary)
        mkdir(directory.file("state"), 0o755)
    }

    deinit { directory.remove() }

    /// `plan` of a real server with a systemd unit, by the copy in bin/ (through `unshare --net`, which
    /// execs it, so the process is lvs-node itself).
    func startPlan() throws -> (Process, Pipe) {
        let process = Process()
        let arguments = ["plan", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "systemd",
                         "--wait", "30", "--root", directory.file("root"), "--state-dir", directory.file("state")]
        if geteuid() == 0, let unshare = which("unshare") {
            process.executableURL = URL(fileURLWithPath: unshare)
            process.arguments = ["--net", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return (process, output)
    }

    func unitLine(_ process: Process, _ output: Pipe) -> String {
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").first { $0.contains("+ExecStart=") }.map { String($0.drop { $0 == " " }) } ?? text
    }

    @Test func aBinaryOutsideThePackagedPathCallsItself() throws {
        let (process, output) = try startPlan()
        let line = unitLine(process, output)
        #expect(process.terminationStatus == 2)
        #expect(line.hasPrefix("+ExecStart=\"\(binary)\" start --root"), "\(line)")
    }

    /// An upgrade replaces the binary while a run waits for the state lock: the kernel then names the
    /// running one "PATH (deleted)", and the unit must call PATH, where its successor is.
    @Test func aBinaryReplacedWhileItRunsCallsItsSuccessor() throws {
        let lock = open(directory.file("state/lock"), O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        #expect(flock(lock, LOCK_EX) == 0)
        let (process, output) = try startPlan()
        // Until the process is lvs-node (not yet unshare), then replace the file as dpkg and rpm do: a new
        // file renamed over it.
        let exe = "/proc/\(process.processIdentifier)/exe"
        for _ in 0..<100 {
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: exe)) == binary { break }
            usleep(50_000)
        }
        try FileManager.default.copyItem(atPath: lvsNodeBinary, toPath: binary + ".new")
        #expect(rename(binary + ".new", binary) == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: exe)) == binary + " (deleted)")
        close(lock)
        let line = unitLine(process, output)
        #expect(process.terminationStatus == 2)
        #expect(line.hasPrefix("+ExecStart=\"\(binary)\" start --root"), "\(line)")
    }
}
