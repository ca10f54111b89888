import Foundation
import Testing
import TestSupport

/// One writer: runs of the real binary started together on one host never both change it. The host
/// always ends in exactly one spec's state (or, with a rollback in the race, one of the states the
/// runs could leave in some order), `status` agrees with it, rolling everything back gives the
/// original host byte for byte, and a run that lost the lock exits 75 (EX_TEMPFAIL) having changed
/// nothing — or, with `--wait SECONDS`, waits for the lock.
@Suite(.serialized, .enabled(if: NetworkNamespace.unavailableReason == nil, Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class ConcurrencyKernelTests {
    static let rounds = 20
    static let specA = ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11", "--persist", "none", "--init", "none"]
    static let specB = ["setup", "--role", "realserver", "--vip", "192.0.2.20", "--vip", "192.0.2.21", "--vip", "192.0.2.22",
                        "--persist", "none", "--init", "none"]
    /// Lock contention (sysexits EX_TEMPFAIL): try again later.
    static let contended: Int32 = 75

    struct References {
        let original: HostSnapshot
        /// name → the host in that state.
        let states: [String: HostSnapshot]
    }

    /// The states the host may end in, each made by running commands one after the other.
    func references(_ bench: HostBench, _ sequences: [String: [[String]]]) throws -> References {
        try bench.fresh()
        let original = try bench.snapshot()
        var states: [String: HostSnapshot] = [:]
        for (name, commands) in sequences {
            try bench.fresh()
            for command in commands {
                let result = try bench.lvsNode(command)
                try #require(result.status == 0, "\(name): \(command): \(result)")
            }
            states[name] = try bench.snapshot()
        }
        return References(original: original, states: states)
    }

    /// Runs the commands at the same moment, each on its own thread, and returns their results in order.
    func together(_ bench: HostBench, _ commands: [[String]]) throws -> [ProcessResult] {
        let namespace = try bench.current().name, ip = which("ip")!
        let results = Results(count: commands.count)
        let locations = bench.locations
        DispatchQueue.concurrentPerform(iterations: commands.count) { index in
            results.set(index, Result { try runProcess(ip, ["netns", "exec", namespace, lvsNodeBinary] + commands[index] + locations) })
        }
        return try results.values.map { try $0!.get() }
    }

    /// What is wrong after a race, or nil: the end state is one of `allowed`, `status` agrees, and
    /// rolling back everything restores the original host exactly.
    func check(_ bench: HostBench, _ results: [ProcessResult], allowed: [String], _ references: References) throws -> String? {
        var problems = results.filter { $0.status != 0 && $0.status != Self.contended }.map {
            "a run exited \($0.status) (only 0, or \(Self.contended) for a lost lock): \($0.stderr)"
        }
        if let state = try checkState(bench, results, allowed: allowed, references) { problems.append(state) }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    func checkState(_ bench: HostBench, _ results: [ProcessResult], allowed: [String], _ references: References) throws -> String? {
        let host = try bench.snapshot()
        let matching = allowed.filter { references.states[$0] == host } + (host == references.original && allowed.contains("original") ? ["original"] : [])
        if matching.isEmpty {
            let closest = allowed.compactMap { references.states[$0].map { ($0.difference(to: host), $0) } }.min { $0.0.count < $1.0.count }
            return "the host is in none of the states \(allowed); closest:\n\(closest?.0 ?? "")\nruns:\n\(results)"
        }
        // status agrees: the host matches the generation in force ("in place"), or none is in force.
        let status = try bench.lvsNode(["status"])
        let agrees = status.status == 0 && (status.stdout.contains("in place") || matching.contains("original"))
        guard agrees else { return "status does not agree with the host (\(matching)): \(status)" }
        let rollbacks = try bench.rollBackEverything()
        guard rollbacks.last?.status == 0, rollbacks.last?.stdout.contains("nothing to roll back") == true else {
            return "rolling back everything failed: \(rollbacks)"
        }
        let after = try bench.snapshot()
        if after != references.original { return "rolling back everything did not restore the host:\n\(references.original.difference(to: after))" }
        return nil
    }

    @Test func twoSetupsWithDifferentSpecsStartedTogetherLeaveExactlyOneSpec() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let references = try references(bench, ["A": [Self.specA], "B": [Self.specB], "A then B": [Self.specA, Self.specB],
                                                 "B then A": [Self.specB, Self.specA]])
        var failures: [String] = []
        var exits: [String: Int] = [:]
        for round in 1...Self.rounds {
            try bench.fresh()
            let results = try together(bench, [Self.specA, Self.specB])
            exits[results.map { "\($0.status)" }.joined(separator: "/"), default: 0] += 1
            if results.allSatisfy({ $0.status == Self.contended }) { failures.append("round \(round): both runs lost the lock") }
            if let failure = try check(bench, results, allowed: ["A", "B", "A then B", "B then A"], references) {
                failures.append("round \(round): \(failure)")
            }
        }
        print("two setups: exit statuses A/B over \(Self.rounds) rounds: \(exits)")
        #expect(failures.isEmpty, "\(failures.count) of \(Self.rounds) rounds failed:\n\(CrashPointKernelTests.summary(failures))")
    }

    @Test func setupAgainstRollbackStartedTogetherLeavesOneConsistentState() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let references = try references(bench, ["A": [Self.specA], "B": [Self.specB], "A then B": [Self.specA, Self.specB]])
        var failures: [String] = []
        var exits: [String: Int] = [:]
        for round in 1...Self.rounds {
            try bench.fresh()
            try #require(try bench.lvsNode(Self.specA).status == 0)
            let results = try together(bench, [Self.specB, ["rollback"]])
            exits[results.map { "\($0.status)" }.joined(separator: "/"), default: 0] += 1
            // setup then rollback: A; rollback then setup: B; only setup: A then B; only rollback: the original.
            if let failure = try check(bench, results, allowed: ["A", "B", "A then B", "original"], references) {
                failures.append("round \(round): \(failure)")
            }
        }
        print("setup against rollback: exit statuses setup/rollback over \(Self.rounds) rounds: \(exits)")
        #expect(failures.isEmpty, "\(failures.count) of \(Self.rounds) rounds failed:\n\(CrashPointKernelTests.summary(failures))")
    }

    /// The lock held by someone else (flock(2) on the state directory's `lock` file): setup exits 75
    /// at once without touching the host; with `--wait` it waits until the lock is free and succeeds,
    /// or gives up with 75 when the wait ends first.
    @Test func aRunThatFindsTheLockTakenExits75OrWaitsWithWait() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        try bench.fresh()
        let original = try bench.snapshot()
        try FileManager.default.createDirectory(atPath: bench.state, withIntermediateDirectories: true)
        let lock = bench.state + "/lock"

        let holder = try LockHolder(path: lock)
        let refused = try bench.lvsNode(Self.specA)
        #expect(refused.status == Self.contended, "\(refused)")
        #expect(try bench.snapshot() == original)
        let started = Date()
        let gaveUp = try bench.lvsNode(Self.specA + ["--wait", "1"])
        #expect(gaveUp.status == Self.contended, "\(gaveUp)")
        #expect(Date().timeIntervalSince(started) >= 0.9, "--wait 1 waited a second before giving up")
        #expect(try bench.snapshot() == original)
        holder.stop()

        let briefHolder = try LockHolder(path: lock)
        defer { briefHolder.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { briefHolder.stop() }
        let waited = try bench.lvsNode(Self.specA + ["--wait", "30"])
        #expect(waited.status == 0, "\(waited)")
        #expect(try bench.lvsNode(["status"]).stdout.contains("in place"))
    }

    /// The state lock held by this process (flock(2), as lvs-node takes it) until `stop()`.
    final class LockHolder: @unchecked Sendable {
        private let lock = NSLock()
        private var descriptor: Int32

        init(path: String) throws {
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { throw POSIXError(.EBUSY) }
        }

        func stop() {
            lock.lock(); defer { lock.unlock() }
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }

        deinit { stop() }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<ProcessResult, Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<ProcessResult, Error>) { lock.lock(); values[index] = value; lock.unlock() }
    }
}
