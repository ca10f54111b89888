import Foundation
import Testing
import TestSupport

/// A full or read-only disk at any write of a `setup` of the real binary: the run either succeeds
/// with the whole new state and its generation recorded (exit 0), or fails with the host exactly as
/// before (exit 1), or says that undoing failed and what to check (exit 3) — never a half state
/// behind a 1. Faults come from strace (`inject=NAME:error=ENOSPC:when=N`) at each call in turn, and
/// from real file systems in a private mount namespace: a full tmpfs and a read-only bind mount.
@Suite(.serialized, .enabled(if: SyscallFaults.unavailableReason == nil, Comment(rawValue: SyscallFaults.unavailableReason ?? "")))
final class FaultInjectionKernelTests {
    static let spec = CrashPointKernelTests.realserver.spec
    static let writes = ["write", "fsync", "fdatasync", "rename", "openat", "mkdir"]

    struct References {
        let original: HostSnapshot
        let applied: HostSnapshot
        let points: [SyscallPoint]
    }

    /// The host before and after a clean run, and the run's writes.
    func references(_ bench: HostBench) throws -> References {
        try bench.fresh()
        let original = try bench.snapshot()
        let traced = try SyscallFaults.mutatingCalls(in: try bench.current(), [lvsNodeBinary] + Self.spec + bench.locations,
                                                     names: Self.writes, scratch: bench.scratch)
        try #require(traced.result.status == 0, "the traced run: \(traced.result)")
        return References(original: original, applied: try bench.snapshot(), points: traced.points)
    }

    /// What is wrong with a run that ended with `result`, or nil when it kept the contract.
    /// `recorded` says whether the generation is in place (`status` exits 0).
    func breach(_ result: ProcessResult, host: HostSnapshot, recorded: () throws -> Bool, _ references: References) rethrows -> String? {
        switch result.status {
        case 0:
            if let difference = Self.difference(host, references.applied) { return "exit 0 without the new state:\n\(difference)" }
            return try recorded() ? nil : "exit 0 but status does not find the generation in place"
        case 1:
            guard let difference = Self.difference(host, references.original) else { return nil }
            let message = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "exit 1 (\(message)) but the host is not as before:\n\(difference)"
        case 3:
            return result.stderr.isEmpty ? "exit 3 without saying what to check" : nil
        case 64...78:
            // Refused before the first change (an unusable state directory is 73): nothing may differ.
            guard let difference = Self.difference(host, references.original) else { return nil }
            return "exit \(result.status) (nothing was changed, it says) but the host is not as before:\n\(difference)"
        default:
            return "exit \(result.status): \(result.stderr)"
        }
    }

    /// `status` found a generation in force and the host matching it.
    static func inPlace(_ status: ProcessResult) -> Bool { status.status == 0 && status.stdout.contains("in place") }

    static func difference(_ actual: HostSnapshot, _ expected: HostSnapshot) -> String? {
        if !actual.temporaryFiles.isEmpty { return "temporary files left: \(actual.temporaryFiles)" }
        return actual == expected ? nil : expected.difference(to: actual)
    }

    func breach(_ result: ProcessResult, _ bench: HostBench, _ references: References) throws -> String? {
        try breach(result, host: try bench.snapshot(), recorded: { try Self.inPlace(bench.lvsNode(["status"])) }, references)
    }

    func injectAtEveryWrite(_ error: String) throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let references = try references(bench)
        #expect(references.points.count >= 30, "\(references.points)")
        var failures: [String] = []
        for point in references.points {
            try bench.fresh()
            let result = try SyscallFaults.run(in: try bench.current(), [lvsNodeBinary] + Self.spec + bench.locations,
                                               injecting: "error=\(error)", at: point)
            if let breach = try breach(result, bench, references) { failures.append("\(error) at \(point): \(breach)") }
        }
        print("\(error): \(references.points.count) runs, \(failures.count) broke the contract")
        let summary = CrashPointKernelTests.summary(failures)
        #expect(failures.isEmpty, "\(failures.count) of \(references.points.count) runs broke the contract:\n\(summary)")
    }

    @Test func aFullDiskAtAnyWriteEndsInTheOldOrTheNewState() throws {
        try injectAtEveryWrite("ENOSPC")
    }

    @Test func aReadOnlyFileSystemAtAnyWriteEndsInTheOldOrTheNewState() throws {
        try injectAtEveryWrite("EROFS")
    }

    /// The issue's first case: the state directory fills up when the journal records that the first
    /// step (the ARP sysctls) was applied; today arp_ignore=1 stays behind an exit 1.
    @Test func aFullStateDirectoryAtTheJournalAppendAfterTheFirstChangeUndoesTheRun() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let references = try references(bench)
        let points = references.points
        let firstChange = try #require(points.firstIndex { $0.name == "write" && $0.path?.hasPrefix("/proc/sys/") == true },
                                       "the run writes a sysctl: \(points)")
        // The journal is opened relative to the state directory's descriptor: its path is "journal".
        let append = try #require(points[firstChange...].first { $0.name == "write" && ($0.path == "journal" || $0.path?.hasSuffix("/journal") == true) },
                                  "the run appends to the journal after the first change: \(points)")
        try bench.fresh()
        let result = try SyscallFaults.run(in: try bench.current(), [lvsNodeBinary] + Self.spec + bench.locations,
                                           injecting: "error=ENOSPC", at: append)
        let failed = result.status == 1 || result.status == 3
        #expect(failed, "\(result)")
        if let breach = try breach(result, bench, references) { Issue.record("ENOSPC at \(append): \(breach)") }
    }

    static let fullTmpfs = """
        state=$1 binary=$2 root=$3
        shift 3
        mount -t tmpfs -o size=256k,mode=0700 lvs-node-test-full "$state"
        head -c 4096 /dev/zero > "$state/spare"
        cat /dev/zero > "$state/fill" 2>/dev/null || true
        rm "$state/spare"
        status=0
        "$binary" "$@" || status=$?
        # The tmpfs goes away with this mount namespace: ask for the generation while it is here.
        "$binary" status --root "$root" --state-dir "$state" | grep -q "in place" && echo "status: in place" >&2 || echo "status: no generation in place" >&2
        exit $status
        """

    /// A state directory on a real tmpfs with one page left: the journal fits, the generation does not.
    @Test func aStateDirectoryOnAFullTmpfsEndsInTheOldOrTheNewState() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let references = try references(bench)
        try bench.fresh()
        try FileManager.default.createDirectory(atPath: bench.state, withIntermediateDirectories: true)
        let arguments = [bench.state, lvsNodeBinary, bench.root] + Self.spec + bench.locations
        let result = try inPrivateMounts(bench, Self.fullTmpfs, arguments)
        let recorded = result.stderr.contains("status: in place")
        if let breach = try breach(result, host: try bench.snapshot(), recorded: { recorded }, references) {
            Issue.record("state directory on a full tmpfs: \(breach)")
        }
    }

    static let readOnlyBind = """
        mount --bind "$1" "$1"
        mount -o remount,bind,ro "$1"
        shift
        exec "$@"
        """

    /// The issue's second case: `generations/` read-only (a bind mount; chmod would not stop root).
    /// Today every VIP stays live behind an exit 1.
    @Test func aReadOnlyGenerationsDirectoryUndoesTheRun() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let references = try references(bench)
        try bench.fresh()
        let generations = bench.state + "/generations"
        try FileManager.default.createDirectory(atPath: generations, withIntermediateDirectories: true)
        let result = try inPrivateMounts(bench, Self.readOnlyBind, [generations, lvsNodeBinary] + Self.spec + bench.locations)
        let failed = result.status == 1 || result.status == 3
        #expect(failed, "\(result)")
        if let breach = try breach(result, bench, references) { Issue.record("generations/ read-only: \(breach)") }
    }

    /// Runs `script` (a fixed text; the values are its arguments) in the bench's namespace and a
    /// private mount namespace, so its mounts vanish with it and never reach the host.
    func inPrivateMounts(_ bench: HostBench, _ script: String, _ arguments: [String]) throws -> ProcessResult {
        let unshare = try #require(which("unshare"), "util-linux unshare")
        return try bench.current().run(unshare, ["--mount", "--propagation", "private", "/bin/sh", "-ec", script, "sh"] + arguments)
    }
}
