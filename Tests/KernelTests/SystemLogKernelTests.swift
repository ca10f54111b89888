import Foundation
import Glibc
import Testing
import TestSupport

/// Why the binary cannot run with a /dev of the test's own here, or nil when it can.
let privateDevUnavailableReason: String? = {
    guard geteuid() == 0 else { return "needs root for mount and network namespaces" }
    guard which("unshare") != nil, which("mount") != nil, which("ip") != nil else { return "needs util-linux's unshare and mount, and ip" }
    return nil
}()

/// Runs that change the host (or fail) are logged with syslog(3). The binary runs in private network
/// and mount namespaces whose /dev is a tmpfs holding a `log` datagram socket this test owns: what
/// lvs-node sent is read here, and the host's own journal never sees it. No test-only switch in the product.
@Suite(.enabled(if: privateDevUnavailableReason == nil, Comment(rawValue: privateDevUnavailableReason ?? "")))
final class SystemLogKernelTests {
    let directory = TemporaryDirectory()
    let socket: Int32

    init() throws {
        socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = directory.file("log")
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(socket >= 0 && bound == 0, "cannot bind \(path): errno \(errno)")
    }

    deinit {
        close(socket)
        directory.remove()
    }

    /// `lvs-node ARGUMENTS` with the test's socket as /dev/log; one network namespace for all runs.
    static let script = """
        set -e
        d=$1; shift
        mkdir -p "$d/dev"
        mount -t tmpfs -o mode=755 lvs-node-test "$d/dev"
        for node in null zero urandom; do touch "$d/dev/$node"; mount --bind "/dev/$node" "$d/dev/$node"; done
        touch "$d/dev/log"
        mount --bind "$d/log" "$d/dev/log"
        mount --rbind "$d/dev" /dev
        ip link set lo up
        run=0
        for arguments in "$@"; do
            run=$((run + 1))
            eval "set -- $arguments"
            "$@" > "$d/stdout.$run" 2>&1 || true
        done
        """

    /// Each element is one run's arguments; returns what each printed on stdout in order (JSON only checked for).
    func runAll(_ runs: [[String]]) throws -> ProcessResult {
        let location = ["--root", directory.file("root"), "--state-dir", directory.file("state")]
        let quoted = runs.map { ([lvsNodeBinary] + $0 + location).map { "'\($0)'" }.joined(separator: " ") }
        return try runProcess(which("unshare")!, ["--net", "--mount", "--propagation", "private", "/bin/sh", "-c", Self.script,
                                                  "sh", directory.path] + quoted)
    }

    /// The messages sent to the socket so far.
    func messages() -> [String] {
        var result: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { return result }
            result.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
    }

    @Test func aRunThatChangesTheHostOrFailsIsOneSyslogLine() throws {
        let spec = ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "none"]
        let result = try runAll([spec, spec, ["stop"], ["start"], ["rollback"], ["setup", "--role", "realserver", "--vip", "127.0.0.1"]])
        #expect(result.status == 0, "\(result)")
        let logged = messages()
        // <30> is LOG_DAEMON|LOG_INFO, <27> LOG_DAEMON|LOG_ERR; the identifier carries the pid.
        let expected = [("<30>", "setup generation 1: 6 changes, succeeded (exit 0)"),
                        ("<30>", "stop generation 1: "), ("<30>", "start generation 1: "),
                        ("<30>", "rollback generation 1: 6 changes, succeeded (exit 0)"),
                        ("<27>", "setup failed (exit 65): error: --vip: 127.0.0.1")]
        #expect(logged.count == expected.count, "the second, unchanging setup logs nothing: \(logged)")
        for ((priority, text), message) in zip(expected, logged) {
            #expect(message.hasPrefix(priority) && message.contains(" lvs-node[") && message.contains("]: \(text)"), "\(message)")
        }
    }

    @Test func loggingPrintsNothingOnStandardOutput() throws {
        let result = try runAll([["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "none", "--json"]])
        #expect(result.status == 0, "\(result)")
        #expect(messages().count == 1)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("stdout.") }
        let output = try #require(outputs.first.map { try String(contentsOfFile: directory.file($0), encoding: .utf8) })
        // stdout and stderr together: one JSON document and nothing else.
        #expect(output.split(separator: "\n").count == 1, "\(output)")
        #expect(try JSONSerialization.jsonObject(with: Data(output.utf8)) is [String: Any], "\(output)")
    }
}
