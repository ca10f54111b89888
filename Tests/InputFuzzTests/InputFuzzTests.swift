import Foundation
import Glibc
import LVSNode
import NodeModel
import Testing
import TestSupport

/// Issue #11 finding 4: bounded work on any input. Every hostile input of the issue as a fixed case
/// run by the built binary, and a seeded mutation run over the spec parser, the user-data parser and
/// the state-file readers. Each child runs under `prlimit --as` and a SIGKILL deadline, so a hang, a trap or
/// unbounded growth fails a test instead of the machine. Bounds stated here: a refusal within
/// `quickly`, one mutated input within 2 s (lvs-node-fuzz), a reader's peak memory under
/// `memoryBound`, the whole suite well under 60 s.
@Suite(.serialized) final class InputFuzzTests {
    let directory = TemporaryDirectory()
    static let quickly: Duration = .seconds(5)
    static let memoryBound = 512 << 20
    /// `LVS_NODE_FUZZ_SEED` replays another sequence; CI runs the fixed one.
    static let seed = ProcessInfo.processInfo.environment["LVS_NODE_FUZZ_SEED"] ?? "20261124"

    deinit { directory.remove() }

    static let fuzzBinary = URL(fileURLWithPath: lvsNodeBinary).deletingLastPathComponent().appendingPathComponent("lvs-node-fuzz").path

    /// How a bounded child ended.
    struct Bounded: CustomStringConvertible {
        /// The exit status, or nil when a signal ended it.
        let status: Int32?
        let signal: Int32?
        let timedOut: Bool
        let stdout: String
        let stderr: String
        let took: Duration
        /// Killed for taking too long, or by a signal of its own (a trap is SIGILL or SIGTRAP).
        var endedBySignal: Bool { signal != nil }
        var description: String {
            (timedOut ? "killed after the time limit" : status.map { "exit \($0)" } ?? "signal \(signal!)")
                + "\nstdout:\n\(stdout)\nstderr:\n\(stderr)"
        }
    }

    /// Runs a program with at most `memory` bytes of address space (`prlimit --as`, which execs it),
    /// killed with SIGKILL after `seconds`; waits with `waitpid`, so a signal is told from an exit status.
    func bounded(_ executable: String, _ arguments: [String], seconds: Int = 5, memory: Int = 2 << 30,
                 namespace: NetworkNamespace? = nil) throws -> Bounded {
        var command = [which("prlimit")!, "--as=\(memory)", "--"]
        if let namespace { command += [which("ip")!, "netns", "exec", namespace.name] }
        command += [executable] + arguments
        let out = directory.file("child.out"), err = directory.file("child.err")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var status: Int32 = 0
        var timedOut = false
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now - start > .seconds(seconds) {
                timedOut = true
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(5_000)
        }
        let took = ContinuousClock.now - start
        let signalled = status & 0x7f != 0
        func text(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return Bounded(status: signalled ? nil : (status >> 8) & 0xff, signal: signalled ? status & 0x7f : nil, timedOut: timedOut,
                       stdout: text(out), stderr: text(err), took: took)
    }

    func file(_ name: String, _ text: String) -> String {
        let path = directory.file(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    var location: [String] { ["--root", directory.file("root"), "--state-dir", directory.file("state")] }

    /// 1.3 KB that expands to 9^9 values when aliases are expanded.
    static let aliasBomb: String = {
        var lines = ["role: realserver", "vips: [192.0.2.10]", "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        lines.append("# padding to the size of the issue's bomb: " + String(repeating: "lol ", count: 200))
        return lines.joined(separator: "\n") + "\n"
    }()

    // MARK: fixed hostile cases, through the binary

    func expectRefusedQuickly(_ path: String, _ phrase: String, _ comment: Comment) throws {
        let run = try bounded(lvsNodeBinary, ["check", path] + location)
        #expect(run.status == 65, "\(comment): \(run)")
        #expect(run.took < Self.quickly, "\(comment) took \(run.took)")
        #expect(run.stderr.contains(phrase), "\(comment): \(run.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory.file("root"))) == [], "\(comment) wrote under the root")
    }

    @Test func hostileSpecFilesAreRefusedWith65Quickly() throws {
        #expect(Self.aliasBomb.utf8.count > 1200)
        try expectRefusedQuickly(file("bomb.yaml", Self.aliasBomb), "line 3: YAML anchors (&a) are not accepted", "alias bomb")
        let fifo = directory.file("fifo.yaml")
        #expect(mkfifo(fifo, 0o600) == 0)
        try expectRefusedQuickly(fifo, "this is a FIFO (named pipe)", "a FIFO")
        try expectRefusedQuickly("/dev/zero", "this is a character device", "/dev/zero")
        try expectRefusedQuickly(directory.path, "this is a directory", "a directory")
        let large = directory.file("large.yaml")
        _ = FileManager.default.createFile(atPath: large, contents: nil)
        #expect(truncate(large, off_t(16 << 20) + 1) == 0)
        try expectRefusedQuickly(large, "larger than 16777216 bytes", "a 16 MiB + 1 file")
        try expectRefusedQuickly(file("nul.yaml", "role: realserver\nvips: [\"192.0.2.10\\0x\"]\n"), "line 2: this value holds a NUL character", "an escaped NUL")
        try expectRefusedQuickly(file("rawnul.yaml", "role: realserver\nvips: [192.0.2.10\u{0}]\n"), "line 2: this is not valid YAML: control characters are not allowed", "a raw NUL")
        try expectRefusedQuickly(file("deep.yaml", "role: realserver\nvips: " + String(repeating: "[", count: 1_000_000) + "\n"),
                                 "nested more than 64 levels deep", "deep nesting")
        for vip in ["::ffff:127.0.0.1", "::ffff:255.255.255.255", "::127.0.0.1", "::ffff:192.0.2.10"] {
            try expectRefusedQuickly(file("mapped.yaml", "role: realserver\nvips: [\"\(vip)\"]\n"), "write the IPv4 address", "VIP \(vip)")
        }
        let ha = "role: director\nvips: [192.0.2.10]\nha: {state: MASTER, priority: 100, virtual-router-id: 5, "
        try expectRefusedQuickly(file("iface.yaml", ha + "interface: \"e0\\n#\"}\n"), "is not an interface name", "ha.interface e0\\n#")
        try expectRefusedQuickly(file("pass.yaml", ha + "interface: eth0, password: \"ab#cd\"}\n"), "ha.password is not a VRRP password", "password with #")
        try expectRefusedQuickly(file("tab.yaml", ha + "interface: eth0, password: \"ab\\tcd\"}\n"), "ha.password is not a VRRP password", "password with a tab")
        for path in ["/a#b", "/a}b"] {
            let spec = "role: director\ninterface: eth0\nservices: [{vip: 192.0.2.10, port: 80, check: {type: http, path: \"\(path)\"}}]\n"
            try expectRefusedQuickly(file("path.yaml", spec), "check.path is not a URL path", "check path \(path)")
        }
    }

    @Test func theConfigMayBeASymlinkButARoleOverrideUnderTheRootMayNot() throws {
        let spec = file("real.yaml", "role: realserver\nvips: [192.0.2.10]\n")
        let link = directory.file("link.yaml")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: spec)
        let followed = try bounded(lvsNodeBinary, ["check", link] + location)
        #expect(followed.status == 0, "\(followed)")

        let roles = directory.file("root/etc/lvs-node/roles")
        try FileManager.default.createDirectory(atPath: roles, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(roles)/realserver.yaml", withDestinationPath: "/dev/zero")
        let refused = try bounded(lvsNodeBinary, ["check", spec] + location)
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("realserver.yaml: this is a symbolic link"), "\(refused.stderr)")
    }

    /// `NodeEnvironment.readUserData` is what the cloud-init hook reads user-data with.
    @Test func userDataIsReadBoundedAndOnlyFromRegularFiles() throws {
        let fifo = directory.file("user-data.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/zero", directory.path] {
            let start = ContinuousClock.now
            #expect(throws: SpecError.self) { try NodeEnvironment.readUserData(path, followSymlink: true) }
            #expect(ContinuousClock.now - start < Self.quickly)
        }
        #expect(try NodeEnvironment.readUserData(directory.file("absent"), followSymlink: false) == nil)
        let text = "#cloud-config\nlvs_node: {role: realserver, vips: [192.0.2.10]}\n"
        #expect(try NodeEnvironment.readUserData(file("user-data", text), followSymlink: false) == Array(text.utf8))
    }

    /// The cloud-init hook through the binary: the alias bomb is refused by the YAML reader; the FIFO
    /// and /dev/zero cases pass once `NodeAgent.userData` reads through `NodeEnvironment.readUserData`.
    @Test(.enabled(if: NetworkNamespace.unavailableReason == nil, "runs the hook in a fresh network namespace, as root"))
    func hostileUserDataIsRefusedWith65Quickly() throws {
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        let bomb = "#cloud-config\nlvs_node:\n" + Self.aliasBomb.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        let fifo = directory.file("user-data.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, phrase) in [(file("bomb-user-data", bomb), "YAML anchors (&a) are not accepted"),
                               (fifo, "this is a FIFO"), ("/dev/zero", "this is a character device")] {
            let run = try bounded(lvsNodeBinary, ["cloud-init", "--user-data", path] + location, seconds: 10, namespace: namespace)
            #expect(run.status == 65 && run.stderr.contains(phrase), "\(path): \(run)")
            #expect(run.took < Self.quickly, "\(path) took \(run.took)")
        }
    }

    // MARK: mutated inputs

    func fuzz(_ reader: String, count: Int, seconds: Int) throws {
        let scratch = directory.file("fuzz-\(reader)")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let run = try bounded(Self.fuzzBinary, ["mutate", reader, Self.seed, String(count), String(seconds), scratch],
                              seconds: seconds + 10)
        let current = (try? String(contentsOfFile: "\(scratch)/current", encoding: .isoLatin1)) ?? ""
        #expect(run.status == 0, "the \(reader) reader failed on \(current.debugDescription) (seed \(Self.seed)): \(run)")
        // "read N inputs, peak memory K KiB"; absent when the run failed, as reported above.
        if run.status == 0, let peak = run.stdout.split(separator: " ").dropLast().last.flatMap({ Int($0) }) {
            #expect(peak < Self.memoryBound / 1024, "the \(reader) reader peaked at \(peak) KiB")
        }
    }

    @Test func theSpecAndUserDataReadersSurviveMutatedInputs() throws {
        try fuzz("spec", count: 30_000, seconds: 8)
        try fuzz("user-data", count: 20_000, seconds: 5)
    }

    /// The journal and generation readers belong to the engine, hardened in parallel (issue #11
    /// finding 4, state files): this may fail until that work is merged.
    @Test func theStateFileReadersSurviveMutatedInputs() throws {
        try fuzz("journal", count: 20_000, seconds: 4)
        try fuzz("generation", count: 20_000, seconds: 4)
        try fuzz("confirmation", count: 20_000, seconds: 3)
    }

    /// The state files of issue #11 that looped or trapped: each must be read or refused, never
    /// loop or trap. Engine code, hardened in parallel: these may fail until that work is merged.
    @Test func testStateFileHostileCases() throws {
        let scratch = directory.file("state-cases")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for count in ["-8", "-9", "-1", "9223372036854775807"] {
            let journal = file("journal\(count)", "begin\tsetup\t1\nintent\tvips\t\(count)\nchange\taddress\tlo 192.0.2.10/32\t-\tlo:0\n")
            let run = try bounded(Self.fuzzBinary, ["one", "journal", journal, scratch])
            #expect(run.status == 0, "journal intent count \(count): \(run)")
        }
        for number in ["9223372036854775807", "-9223372036854775808", "99999999999999999999"] {
            let generation = file("generation\(number)", "generation\t\(number)\ncreated\t2026-11-24T07:00:00Z\n")
            let run = try bounded(Self.fuzzBinary, ["one", "generation", generation, scratch])
            #expect(run.status == 0, "generation number \(number): \(run)")
        }
    }

    @Test(.enabled(if: NetworkNamespace.unavailableReason == nil, "runs setup in a fresh network namespace, as root"))
    func testStateFileHostileCasesThroughSetup() throws {
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        let state = directory.file("state")
        try FileManager.default.createDirectory(atPath: "\(state)/generations", withIntermediateDirectories: true)
        _ = file("state/generations/9223372036854775807", "generation\t9223372036854775807\ncreated\t2026-11-24T07:00:00Z\n")
        let named = try bounded(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10"] + location, seconds: 10, namespace: namespace)
        #expect(!named.endedBySignal, "a generation named 9223372036854775807: \(named)")
        try FileManager.default.removeItem(atPath: state)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        for count in ["-8", "-9"] {
            _ = file("state/journal", "begin\tsetup\t1\nintent\tvips\t\(count)\n")
            let run = try bounded(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10"] + location, seconds: 10, namespace: namespace)
            #expect(!run.endedBySignal, "journal intent count \(count): \(run)")
        }
    }
}
