import Glibc
import HostAccess
import Testing

/// `ProcessRunner` against real children: full pipes, early exits, hangs, missing programs.
@Suite struct ProcessRunnerTests {
    static let mebibyte = 1 << 20

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        try body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }

    /// stderr is filled first: a runner that reads stdout to EOF before stderr waits forever here.
    @Test(.timeLimit(.minutes(1)))
    func aChildFillingStderrBeforeStdoutCompletes() throws {
        let script = "head -c \(Self.mebibyte) /dev/zero | tr '\\0' e >&2; head -c \(Self.mebibyte) /dev/zero | tr '\\0' o"
        let result = try ProcessRunner.run("/bin/sh", ["-c", script], input: nil, timeoutSeconds: 30)
        #expect(result.status == 0)
        #expect(result.output.utf8.count == Self.mebibyte && result.output.utf8.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(result.error.utf8.count == Self.mebibyte && result.error.utf8.allSatisfy { $0 == UInt8(ascii: "e") })
    }

    @Test(.timeLimit(.minutes(1)))
    func inputIsWrittenWhileOutputIsRead() throws {
        // cat echoes as it reads: 1 MiB each way, both pipes full at once.
        let input = String(repeating: "x", count: Self.mebibyte)
        let result = try ProcessRunner.run("/bin/cat", [], input: input, timeoutSeconds: 30)
        #expect(result.status == 0 && result.output == input)
    }

    /// A child that exits without reading its input: the write fails with EPIPE, and the agent
    /// (SIGPIPE ignored) lives on to report the child's status.
    @Test(.timeLimit(.minutes(1)))
    func aChildThatExitsWithoutReadingItsInputDoesNotKillTheAgent() throws {
        let result = try ProcessRunner.run("/bin/sh", ["-c", "exit 3"], input: String(repeating: "y", count: Self.mebibyte),
                                           timeoutSeconds: 30)
        #expect(result.status == 3)
    }

    /// The agent ignores SIGPIPE; its children must not inherit that (a pipeline in a child relies on it).
    @Test func childrenStartWithTheDefaultSIGPIPE() throws {
        _ = try ProcessRunner.run("/bin/true", [], input: "prime the runner")
        let status = try ProcessRunner.run("/bin/grep", ["^SigIgn:", "/proc/self/status"], input: nil)
        let mask = try #require(UInt64(status.output.split(separator: "\t").last.map { $0.trimmingCharacters() } ?? "", radix: 16))
        #expect(mask & (1 << (UInt64(SIGPIPE) - 1)) == 0, "child's SigIgn: \(status.output)")
    }

    @Test(.timeLimit(.minutes(1)))
    func aChildPastItsDeadlineIsKilledAndNamed() throws {
        var caught: ProcessRunner.TimedOut?
        let elapsed = Self.seconds {
            do { _ = try ProcessRunner.run("/bin/sleep", ["100"], input: nil, timeoutSeconds: 1) } catch let error as ProcessRunner.TimedOut {
                caught = error
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        let error = try #require(caught)
        #expect(error.command == "/bin/sleep 100" && error.seconds == 1)
        #expect("\(error)".contains("/bin/sleep 100"))
        #expect(elapsed < 10)
    }

    /// A daemon-like child that closes its outputs and keeps running is still bounded by the deadline.
    @Test(.timeLimit(.minutes(1)))
    func aChildThatClosesItsOutputsAndHangsIsKilled() throws {
        #expect(throws: ProcessRunner.TimedOut.self) {
            _ = try ProcessRunner.run("/bin/sh", ["-c", "exec >&- 2>&-; exec sleep 100"], input: nil, timeoutSeconds: 1)
        }
    }

    /// The child's own output is what counts: a grandchild left holding the pipes does not keep us waiting.
    @Test(.timeLimit(.minutes(1)))
    func aGrandchildHoldingThePipesDoesNotDelayTheResult() throws {
        var result: ProcessRunner.Result?
        let elapsed = try Self.seconds {
            result = try ProcessRunner.run("/bin/sh", ["-c", "sleep 30 & echo $!"], input: nil, timeoutSeconds: 20)
        }
        let output = try #require(result).output
        let grandchild = try #require(pid_t(output.trimmingCharacters()))
        kill(grandchild, SIGKILL)
        #expect(result?.status == 0)
        #expect(elapsed < 10)
    }

    @Test func aMissingProgramIsItsOwnError() throws {
        #expect(throws: ProcessRunner.MissingProgram(path: "/nonexistent/lvs-node-tool")) {
            _ = try ProcessRunner.run("/nonexistent/lvs-node-tool", [], input: nil)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func outputIsKeptUpToItsLimit() throws {
        let result = try ProcessRunner.run("/usr/bin/head", ["-c", "\(6 * Self.mebibyte)", "/dev/zero"], input: nil, timeoutSeconds: 30)
        #expect(result.status == 0)
        #expect(result.output.utf8.count < ProcessRunner.outputLimit + 100)
        #expect(result.output.hasSuffix("[\(6 * Self.mebibyte - ProcessRunner.outputLimit) more bytes of output discarded]"))
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self).trimmingCharacters() }
}

extension String {
    func trimmingCharacters() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
