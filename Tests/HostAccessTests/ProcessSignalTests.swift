import Foundation
import Glibc
import HostAccess
import Testing

/// `ProcessSignal` against real processes: it signals the daemon a pid file names, and nothing else.
@Suite struct ProcessSignalTests {
    /// A fresh directory, removed by `remove()`.
    final class Scratch {
        let path: String
        init() {
            var template = Array("/tmp/lvs-node-signal.XXXXXX".utf8CString)
            path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        }
        func file(_ name: String) -> String { "\(path)/\(name)" }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Starts `executable` with `arguments`, with default signal handling whatever the test runner
    /// ignores or blocks; the test reaps it with `waitpid`.
    static func start(_ executable: String, _ arguments: [String]) throws -> pid_t {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, nil, &attributes, argv, environ)
        try #require(rc == 0, "posix_spawn \(executable): \(rc)")
        return pid
    }

    /// Waits (at most a few seconds) for `pid` to end; its wait status, or nil if it is still running.
    static func ended(_ pid: pid_t, within seconds: Double = 5) -> Int32? {
        var status: Int32 = 0
        for _ in 0..<Int(seconds * 100) {
            if waitpid(pid, &status, WNOHANG) == pid { return status }
            usleep(10_000)
        }
        return nil
    }

    static func stop(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test func anUnrelatedProcessNamedByThePidFileIsNotSignalled() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let pid = try Self.start("/bin/sleep", ["100"])
        defer { Self.stop(pid) }
        try "\(pid)\n".write(toFile: scratch.file("keepalived.pid"), atomically: true, encoding: .utf8)
        let outcome = try ProcessSignal.send(SIGHUP, pidFile: scratch.file("keepalived.pid"), process: "keepalived")
        #expect(outcome == .otherProcess(pid, comm: "sleep"))
        #expect(Self.ended(pid, within: 0.5) == nil, "the unrelated process must still be running")
    }

    @Test func theDaemonNamedByThePidFileGetsTheSignal() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        // A program called keepalived: the kernel names the process after its executable.
        let daemon = scratch.file("keepalived")
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: daemon)
        let pid = try Self.start(daemon, ["100"])
        var reaped = false
        defer { if !reaped { Self.stop(pid) } }
        try #require(Self.waitForName(pid, "keepalived"))
        try "\(pid)\n".write(toFile: scratch.file("keepalived.pid"), atomically: true, encoding: .utf8)
        let outcome = try ProcessSignal.send(SIGHUP, pidFile: scratch.file("keepalived.pid"), process: "keepalived")
        #expect(outcome == .sent(pid))
        let status = try #require(Self.ended(pid))
        reaped = true
        // WIFSIGNALED and WTERMSIG: sleep does not handle SIGHUP, so it dies of it.
        #expect(status & 0x7f == SIGHUP)
    }

    /// posix_spawn returns before the child has exec'd: until then it is still called after the test runner.
    static func waitForName(_ pid: pid_t, _ name: String) -> Bool {
        for _ in 0..<500 {
            if let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
               comm.trimmingCharacters(in: .whitespacesAndNewlines) == name { return true }
            usleep(10_000)
        }
        return false
    }

    @Test func aPidFileThatIsAFIFOIsAClearErrorWithoutBlocking() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.file("keepalived.pid")
        try #require(mkfifo(path, 0o600) == 0)
        let started = Date()
        #expect { try ProcessSignal.send(SIGHUP, pidFile: path, process: "keepalived") } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("FIFO")
        }
        #expect { try ProcessSignal.checkPidFile(path) } throws: { "\($0)".contains("FIFO") }
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func aPidFileThatIsADirectoryIsAClearError() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.file("keepalived.pid")
        try #require(mkdir(path, 0o755) == 0)
        #expect { try ProcessSignal.checkPidFile(path) } throws: { "\($0)".contains(path) && "\($0)".contains("directory") }
        #expect { try ProcessSignal.send(SIGHUP, pidFile: path, process: "keepalived") } throws: { "\($0)".contains("directory") }
    }

    @Test func anOversizedOrLinkedPidFileIsAClearError() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let big = scratch.file("big.pid")
        try String(repeating: "1", count: 1 << 20).write(toFile: big, atomically: true, encoding: .utf8)
        #expect { try ProcessSignal.checkPidFile(big) } throws: { "\($0)".contains(big) }
        let link = scratch.file("link.pid")
        try #require(symlink("/proc/self/stat", link) == 0)
        #expect { try ProcessSignal.checkPidFile(link) } throws: { "\($0)".contains("symbolic link") }
    }

    @Test func noFileNoNumberOrNoProcessIsNotRunning() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.file("keepalived.pid")
        #expect(try ProcessSignal.send(SIGHUP, pidFile: path, process: "keepalived") == .notRunning)
        try ProcessSignal.checkPidFile(path)
        for content in ["", "garbage\n", "1\n", "-5\n", "0\n", "99999999999999999999\n", "12 34\n"] {
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try ProcessSignal.send(SIGHUP, pidFile: path, process: "keepalived") == .notRunning, "content \(content)")
        }
        let gone = try Self.start("/bin/true", [])
        _ = Self.ended(gone)
        try "\(gone)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ProcessSignal.send(SIGHUP, pidFile: path, process: "keepalived") == .notRunning)
    }
}
