import Glibc

/// Runs a program with an argument list (never a shell), feeding `input` on standard input and
/// collecting its output: for the few tools lvs-node drives (nft, keepalived -t, cloud-init query).
///
/// A child can neither hang nor kill the agent: its input is written and both its outputs are read
/// at the same time (a child blocked on a full stderr pipe would otherwise wait for us forever), every
/// call has a deadline after which the child is killed, SIGPIPE is ignored in the agent (a child that
/// exits before reading its input is an EPIPE, not the death of lvs-node mid-run, skipping its undo),
/// and what a child prints is kept up to `outputLimit` bytes per stream.
public enum ProcessRunner {
    public struct Result {
        public let status: Int32
        public let output: String
        public let error: String
    }

    /// The program is not installed (posix_spawn reported ENOENT): the caller's "missing tool", exit 69.
    public struct MissingProgram: Error, CustomStringConvertible, Equatable {
        public let path: String
        public init(path: String) { self.path = path }
        public var description: String { "\(path) is not installed" }
    }

    /// The child ran past its deadline; it was killed (SIGKILL) and reaped.
    public struct TimedOut: Error, CustomStringConvertible, Equatable {
        public let command: String
        public let seconds: Int
        public init(command: String, seconds: Int) {
            self.command = command
            self.seconds = seconds
        }
        public var description: String { "\(command) did not finish within \(seconds) seconds and was killed" }
    }

    /// Generous: nft and keepalived -t take milliseconds; a hung child must not hold the lock forever.
    public static let defaultTimeoutSeconds = 60
    /// Bytes kept per output stream; the rest is read and discarded so the child never blocks.
    public static let outputLimit = 4 << 20

    public static func run(_ executable: String, _ arguments: [String], input: String?,
                           timeoutSeconds: Int = defaultTimeoutSeconds) throws -> Result {
        ignoreBrokenPipes()
        let command = ([executable] + arguments).joined(separator: " ")
        let child = try ChildProcess.spawn(executable, arguments)
        let deadline = Deadline(seconds: timeoutSeconds)
        return try child.exchange(Array((input ?? "").utf8), deadline: deadline, command: command, timeoutSeconds: timeoutSeconds)
    }

    /// Once per process, before the first spawn; children get SIGPIPE back through POSIX_SPAWN_SETSIGDEF.
    private static let brokenPipesIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    /// Ignores SIGPIPE in this process (idempotent; `run` calls it before its first spawn). The
    /// command line may call it at start-up too, so a reader of its output that goes away early is
    /// an EPIPE rather than the death of a run before its undo.
    public static func ignoreBrokenPipes() { _ = brokenPipesIgnored }
}

/// One spawned child and the parent's ends of its three pipes (non-blocking, close-on-exec).
private final class ChildProcess {
    let pid: pid_t
    private var input: Int32
    private var output: Int32
    private var error: Int32
    private var reaped = false

    private init(pid: pid_t, input: Int32, output: Int32, error: Int32) {
        self.pid = pid
        self.input = input
        self.output = output
        self.error = error
    }

    deinit {
        for fd in [input, output, error] where fd >= 0 { close(fd) }
        if !reaped { kill(pid, SIGKILL); _ = Self.reap(pid) }
    }

    static func spawn(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        let pipes = try Pipe.make(3, for: executable)
        let (stdin, stdout, stderr) = (pipes[0], pipes[1], pipes[2])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Every pipe end is close-on-exec; dup2 onto 0, 1, 2 clears the flag on the copies the child keeps.
        posix_spawn_file_actions_adddup2(&actions, stdin.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr.write, 2)

        let (spawned, pid) = Spawn.start(executable, arguments, &actions)
        close(stdin.read); close(stdout.write); close(stderr.write)
        guard spawned == 0 else {
            close(stdin.write); close(stdout.read); close(stderr.read)
            if spawned == ENOENT { throw ProcessRunner.MissingProgram(path: executable) }
            throw HostError(operation: "running", subject: executable, errno: spawned)
        }
        // Only the parent's ends are non-blocking: the flag belongs to the open file, which the child shares.
        for fd in [stdin.write, stdout.read, stderr.read] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return ChildProcess(pid: pid, input: stdin.write, output: stdout.read, error: stderr.read)
    }

    /// Writes `bytes` to the child's stdin while draining stdout and stderr, until the child has exited
    /// (then what it wrote is read to the end), or the deadline passes (then the child is killed and
    /// `TimedOut` thrown). A grandchild that keeps the pipes open does not keep us waiting.
    func exchange(_ bytes: [UInt8], deadline: Deadline, command: String, timeoutSeconds: Int) throws -> ProcessRunner.Result {
        var written = 0
        if bytes.isEmpty { closeInput() }
        var out = Stream(), err = Stream()
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 { try killForTimeout(command, timeoutSeconds) }
            if let status = try exitStatus(waiting: false) {
                // Everything the child wrote is in the pipes by now; whatever comes later is not its.
                try drain(&output, into: &out, command: command, budget: ProcessRunner.outputLimit * 2)
                try drain(&error, into: &err, command: command, budget: ProcessRunner.outputLimit * 2)
                return ProcessRunner.Result(status: status, output: out.text, error: err.text.trimmingWhitespace())
            }
            // A negative fd is skipped by poll; the short wait notices an exit while a grandchild holds the pipes.
            var fds = [pollfd(fd: input, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: output, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: error, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 50)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: "waiting for", subject: command, errno: errno)
            }
            if fds[0].revents != 0 { written = writeInput(bytes, from: written) }
            if fds[1].revents != 0 { try drain(&output, into: &out, command: command) }
            if fds[2].revents != 0 { try drain(&error, into: &err, command: command) }
        }
    }

    /// Writes what the pipe takes; stops at the end, or when the child closed its stdin (EPIPE).
    private func writeInput(_ bytes: [UInt8], from offset: Int) -> Int {
        var offset = offset
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(input, $0.baseAddress, min($0.count, 65536)) }
            if count > 0 { offset += count; continue }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return offset }
            break  // EPIPE: the child does not want the rest; anything else: nothing more can be written.
        }
        closeInput()
        return offset
    }

    private func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// Reads what is there (up to `budget` bytes, then back to the loop and its deadline), closing the pipe at EOF.
    private func drain(_ fd: inout Int32, into stream: inout Stream, command: String, budget: Int = 1 << 20) throws {
        guard fd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while total < budget {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 { stream.append(buffer[0..<count]); total += count; continue }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return }
            if count < 0 { throw HostError(operation: "reading the output of", subject: command, errno: errno) }
            close(fd)
            fd = -1
            return
        }
    }

    private func killForTimeout(_ command: String, _ seconds: Int) throws -> Never {
        kill(pid, SIGKILL)
        _ = try? exitStatus(waiting: true)
        throw ProcessRunner.TimedOut(command: command, seconds: seconds)
    }

    /// The exit status (128 + signal for a killed child), or nil while it still runs (`waiting: false`).
    private func exitStatus(waiting: Bool) throws -> Int32? {
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, waiting ? 0 : WNOHANG)
            if rc < 0 && errno == EINTR { continue }
            if rc < 0 { reaped = true; throw HostError(operation: "waiting for", subject: "process \(pid)", errno: errno) }
            if rc == 0 { return nil }
            reaped = true
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    private static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// Collected output, bounded: bytes past the limit are counted and dropped.
    struct Stream {
        private var bytes: [UInt8] = []
        private var dropped = 0

        mutating func append(_ chunk: ArraySlice<UInt8>) {
            let room = max(ProcessRunner.outputLimit - bytes.count, 0)
            bytes.append(contentsOf: chunk.prefix(room))
            dropped += max(chunk.count - room, 0)
        }

        var text: String {
            let kept = String(decoding: bytes, as: UTF8.self)
            return dropped == 0 ? kept : kept + "\n[\(dropped) more bytes of output discarded]"
        }
    }

    /// A pipe whose ends are close-on-exec and above the standard descriptors (so the dup2 onto 0, 1, 2
    /// never overwrites another pipe's end when the agent runs with a standard stream closed).
    private struct Pipe {
        let read: Int32
        let write: Int32

        /// `count` pipes, or none: on failure every descriptor made so far is closed.
        static func make(_ count: Int, for executable: String) throws -> [Pipe] {
            var made: [Int32] = []
            func fail(_ code: Int32) -> HostError {
                made.forEach { close($0) }
                return HostError(operation: "creating a pipe for", subject: executable, errno: code)
            }
            for _ in 0..<count {
                var fds: [Int32] = [-1, -1]
                guard pipe(&fds) == 0 else { throw fail(errno) }
                for (index, fd) in fds.enumerated() {
                    // (pipe2 is not visible to Swift; lvs-node spawns from one thread, so nothing forks in between.)
                    guard fd < 3 else { _ = fcntl(fd, F_SETFD, FD_CLOEXEC); made.append(fd); continue }
                    let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
                    let code = errno
                    close(fd)
                    guard moved >= 0 else {
                        fds[(index + 1)...].forEach { close($0) }
                        throw fail(code)
                    }
                    made.append(moved)
                }
            }
            return stride(from: 0, to: made.count, by: 2).map { Pipe(read: made[$0], write: made[$0 + 1]) }
        }
    }
}
