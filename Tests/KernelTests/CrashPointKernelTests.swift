import Foundation
import Testing
import TestSupport

/// `kill -9` of the real binary at every system call of a `setup` that changes something (strace
/// `inject=NAME:signal=KILL:when=N`), then recovery three ways from a copy of the same situation:
/// `setup` with the same spec ends in its state (exit 0), `setup` with a changed spec ends in that
/// spec's state, `rollback` until nothing is left ends byte-exact in the original state. No recovery
/// may leave a `*.lvs-node-tmp` file under the root.
@Suite(.serialized, .enabled(if: SyscallFaults.unavailableReason == nil, Comment(rawValue: SyscallFaults.unavailableReason ?? "")))
final class CrashPointKernelTests {
    struct Case {
        let situation: HostBench.Situation
        let spec: [String]
        let changed: [String]
    }

    static let realserver = Case(
        situation: .realserver,
        spec: ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11", "--vip", "2001:db8::10",
               "--persist", "netplan", "--init", "systemd"],
        // persist and init left to auto-detection, which finds the same netplan and systemd.
        changed: ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.12"])

    static let router = Case(
        situation: .router,
        spec: ["setup", "--role", "router", "--address", "eth1=203.0.113.200/24", "--route", "198.51.100.0/24 via 203.0.113.254",
               "--ipv6-forwarding"],
        changed: ["setup", "--role", "router", "--address", "eth1=203.0.113.201/24", "--route", "198.51.100.0/24 via 203.0.113.254"])

    enum Recovery: String, CaseIterable { case sameSpec = "setup, same spec", changedSpec = "setup, changed spec", rollback = "rollback to nothing" }

    @Test func aRealServerKilledAtEveryMutatingSyscallIsRecoveredEveryWay() throws {
        try killAtEveryPoint(Self.realserver)
    }

    @Test func aRouterKilledAtEveryMutatingSyscallIsRecoveredEveryWay() throws {
        try killAtEveryPoint(Self.router)
    }

    func killAtEveryPoint(_ testCase: Case) throws {
        let bench = HostBench(testCase.situation)
        defer { bench.remove() }
        let binary = [lvsNodeBinary]

        // The references: the host before, after the spec, and after the changed spec (applied to the
        // original host, or on top of the spec: label numbering may differ, both are that spec's state).
        try bench.fresh()
        let original = try bench.snapshot()
        let traced = try SyscallFaults.mutatingCalls(in: try bench.current(), binary + testCase.spec + bench.locations, scratch: bench.scratch)
        try #require(traced.result.status == 0, "the traced run: \(traced.result)")
        let applied = try bench.snapshot()
        try #require(applied != original)
        try bench.fresh()
        try #require(try bench.lvsNode(testCase.changed).status == 0)
        let changedFromOriginal = try bench.snapshot()
        try bench.fresh()
        try #require(try bench.lvsNode(testCase.spec).status == 0)
        try #require(try bench.lvsNode(testCase.changed).status == 0)
        let changedFromApplied = try bench.snapshot()

        let points = traced.points
        #expect(points.count >= 20, "mutating syscalls found: \(points)")
        var failures: [String] = []
        var runs = 0
        let started = Date()
        for point in points {
            for recovery in Recovery.allCases {
                try bench.fresh()
                let killed = try SyscallFaults.run(in: try bench.current(), binary + testCase.spec + bench.locations, injecting: "signal=KILL", at: point)
                runs += 1
                guard SyscallFaults.wasKilled(killed) else {
                    failures.append("\(point): the kill was not reached (\(killed.status)): \(killed.stderr)")
                    continue
                }
                if let failure = try recover(bench, recovery, testCase, original: original, applied: applied,
                                             changed: [changedFromOriginal, changedFromApplied]) {
                    failures.append("killed before \(point), recovered by \(recovery.rawValue): \(failure)")
                }
            }
        }
        let seconds = Int(Date().timeIntervalSince(started))
        print("\(testCase.situation.name): \(points.count) kill points × \(Recovery.allCases.count) recoveries = \(runs) runs in \(seconds) s, \(failures.count) failed")
        #expect(failures.isEmpty, "\(failures.count) of \(runs) crash recoveries failed:\n\(Self.summary(failures))")
    }

    /// What is wrong after the recovery, or nil when the host is exactly as it must be.
    func recover(_ bench: HostBench, _ recovery: Recovery, _ testCase: Case, original: HostSnapshot, applied: HostSnapshot,
                 changed: [HostSnapshot]) throws -> String? {
        switch recovery {
        case .sameSpec:
            let result = try bench.lvsNode(testCase.spec)
            guard result.status == 0 else { return "exit \(result.status): \(result.stderr)" }
            return try Self.mismatch(try bench.snapshot(), expected: [applied])
        case .changedSpec:
            let result = try bench.lvsNode(testCase.changed)
            guard result.status == 0 else { return "exit \(result.status): \(result.stderr)" }
            return try Self.mismatch(try bench.snapshot(), expected: changed)
        case .rollback:
            let results = try bench.rollBackEverything()
            guard let last = results.last, last.status == 0, last.stdout.contains("nothing to roll back") else {
                return "rollback did not end in \"nothing to roll back\": \(results.map { "exit \($0.status) \($0.stdout)\($0.stderr)" })"
            }
            return try Self.mismatch(try bench.snapshot(), expected: [original])
        }
    }

    static func mismatch(_ actual: HostSnapshot, expected: [HostSnapshot]) throws -> String? {
        if !actual.temporaryFiles.isEmpty { return "temporary files left: \(actual.temporaryFiles)" }
        if expected.contains(actual) { return nil }
        let closest = expected.map { $0.difference(to: actual) }.min { $0.count < $1.count }!
        return "the host differs from the expected state (- expected, + found):\n" + closest
    }

    /// Every failure on one line, the first three in full.
    static func summary(_ failures: [String]) -> String {
        let full = failures.prefix(3).joined(separator: "\n\n")
        let short = failures.dropFirst(3).map { String($0.prefix(240)).replacingOccurrences(of: "\n", with: " ⏎ ") }
        return full + (short.isEmpty ? "" : "\n\nand:\n" + short.joined(separator: "\n"))
    }
}
