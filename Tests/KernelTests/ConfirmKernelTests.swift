import Foundation
import Glibc
import Testing
import TestSupport

/// Confirm or revert, with the real binary in fresh namespaces. Generation 1 is a DR real server (a
/// VIP on lo, ARP sysctls, netplan, sysctl.d, a systemd unit); the change under test makes it a NAT
/// real server whose default route goes through 192.0.2.1 instead of 192.0.2.254: the classic
/// lock-out. Every case ends byte-exact in one of the two snapshots (addresses, routes, sysctls, files).
@Suite(.serialized, .enabled(if: SyscallFaults.unavailableReason == nil, Comment(rawValue: SyscallFaults.unavailableReason ?? "")))
final class ConfirmKernelTests {
    static let good = ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "netplan", "--init", "systemd"]
    static let lockOut = ["setup", "--role", "realserver", "--mode", "nat", "--gateway", "192.0.2.1", "--persist", "netplan", "--init", "systemd"]

    let bench = HostBench(.uplinkedRealserver)
    deinit { bench.remove() }

    /// Generation 1 in place; returns its snapshot.
    func applyGood() throws -> HostSnapshot {
        try bench.fresh()
        let result = try bench.lvsNode(Self.good)
        try #require(result.status == 0, "\(result)")
        return try bench.snapshot()
    }

    /// The lock-out change with `--confirm-within seconds`; returns its snapshot.
    func applyLockOut(within seconds: Int = 2, extra: [String] = []) throws -> HostSnapshot {
        let result = try bench.lvsNode(Self.lockOut + ["--confirm-within", String(seconds)] + extra)
        try #require(result.status == 0, "\(result)")
        #expect(result.stdout.contains("awaiting confirmation: generation 2 is undone at"), "\(result)")
        let applied = try bench.snapshot()
        #expect(applied.entries["route -4 default"]?.contains("gateway=192.0.2.1 ") == true, "the default route is the director: \(applied)")
        return applied
    }

    /// The confirmation as `status --json` reports it.
    func confirmation() throws -> [String: Any]? {
        let result = try bench.lvsNode(["status", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["confirmation"] as? [String: Any]
    }

    /// Why `history --json` says generation `number` was rolled back (nil: by hand, or in force).
    func rolledBackBecause(_ number: Int) throws -> String? {
        let result = try bench.lvsNode(["history", "--json"])
        #expect(try JSONSchemaCheck.validate(result.stdout).isEmpty, "\(result)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let entry = (object?["generations"] as? [[String: Any]])?.first { $0["number"] as? Int == number }
        return entry?["rolled_back_because"] as? String
    }

    /// Polls until the confirmation's state is one of `states`; the bound only turns a hang into a failure.
    func waitFor(_ states: Set<String>, bound: TimeInterval = 90) throws -> String {
        let limit = Date().addingTimeInterval(bound)
        while Date() < limit {
            if let state = try confirmation()?["state"] as? String, states.contains(state) { return state }
            usleep(100_000)
        }
        return "still \(try confirmation()?["state"] ?? "none") after \(Int(bound)) s"
    }

    /// Until no process (no watcher) is left in the namespace.
    func waitForNoWatcher(bound: TimeInterval = 90) throws -> Bool {
        let limit = Date().addingTimeInterval(bound)
        while Date() < limit {
            if try bench.current().processes().isEmpty { return true }
            usleep(100_000)
        }
        return false
    }

    func expectSame(_ actual: HostSnapshot, _ expected: HostSnapshot, _ what: String) {
        #expect(actual == expected, "\(what) (- expected, + found):\n\(expected.difference(to: actual))")
    }

    @Test func anUnconfirmedChangeIsUndoneAtItsDeadline() throws {
        let good = try applyGood()
        let applied = try applyLockOut()
        try #require(applied != good)
        #expect(try waitFor(["reverted"]) == "reverted")
        expectSame(try bench.snapshot(), good, "after the deadline the host is generation 1 again")
        let late = try bench.lvsNode(["confirm"])
        #expect(late.status == 1 && late.stdout.contains("too late: generation 2 was not confirmed by"), "\(late)")
        let history = try bench.lvsNode(["history"])
        #expect(history.stdout.contains("in force: 1"), "\(history)")
        // history says it was the confirmation's revert, not a rollback by hand.
        let line = history.stdout.split(separator: "\n").first { $0.hasPrefix("2  ") } ?? ""
        #expect(line.contains("rolled back ") && line.contains(" (not confirmed by "), "\(history)")
        #expect(try rolledBackBecause(2)?.hasPrefix("not confirmed by ") == true)
    }

    @Test func aConfirmedChangeStaysWellPastItsDeadline() throws {
        _ = try applyGood()
        let applied = try applyLockOut()
        let confirm = try bench.lvsNode(["confirm"])
        #expect(confirm.status == 0 && confirm.stdout.contains("confirmed: generation 2 stays"), "\(confirm)")
        let again = try bench.lvsNode(["confirm"])
        #expect(again.status == 0 && again.stdout == confirm.stdout, "confirm is idempotent: \(again)")
        // The watcher wakes at the deadline, finds the change confirmed and exits.
        #expect(try waitForNoWatcher())
        expectSame(try bench.snapshot(), applied, "a confirmed change stays")
        #expect(try confirmation()?["state"] as? String == "confirmed")
        #expect(try bench.lvsNode(["status"]).status == 0)
    }

    /// The shell that ran setup is hung up (SIGHUP to its whole process group) the instant setup returns.
    @Test func aHangupOfTheCallersProcessGroupDoesNotStopTheRevert() throws {
        let good = try applyGood()
        let shell = try bench.current().run(which("setsid")!, ["--wait", "/bin/sh", "-c", "\"$@\"; kill -HUP 0; echo survived", "sh",
                                                               lvsNodeBinary] + Self.lockOut + ["--confirm-within", "2"] + bench.locations)
        #expect(!shell.stdout.contains("survived"), "the shell died of its hangup: \(shell)")
        #expect(shell.stdout.contains("applied generation 2"), "\(shell)")
        #expect(try waitFor(["reverted"]) == "reverted")
        expectSame(try bench.snapshot(), good, "reverted although the session hung up")
    }

    /// lvs-node killed with SIGKILL right after applying (strace kills it at its exit_group).
    @Test func aKilledLvsNodeStillReverts() throws {
        let good = try applyGood()
        let killed = try bench.current().run(SyscallFaults.strace!, ["-o", "/dev/null", "-qq", "-e", "trace=exit_group",
                                                                      "-e", "inject=exit_group:signal=KILL", "--", lvsNodeBinary]
                                                                     + Self.lockOut + ["--confirm-within", "2"] + bench.locations)
        #expect(SyscallFaults.wasKilled(killed), "\(killed)")
        #expect(killed.stdout.contains("applied generation 2"), "\(killed)")
        #expect(try waitFor(["reverted"]) == "reverted")
        expectSame(try bench.snapshot(), good, "reverted although lvs-node was killed")
    }

    /// Killed at mutating system calls of the confirm run (first, last and evenly between): whatever
    /// point, once the deadline has passed the host is generation 1 again and nothing awaits.
    @Test func killedAnywhereInAConfirmRunTheHostEndsInGenerationOne() throws {
        let good = try applyGood()
        let arguments = [lvsNodeBinary] + Self.lockOut + ["--confirm-within", "1"] + bench.locations
        let traced = try SyscallFaults.mutatingCalls(in: try bench.current(), arguments, scratch: bench.scratch)
        try #require(traced.result.status == 0, "\(traced.result)")
        let points = traced.points
        try #require(points.count >= 10, "\(points)")
        let chosen = Set((0..<8).map { $0 * (points.count - 1) / 7 })
        var failures: [String] = []
        for index in chosen.sorted() {
            let point = points[index]
            _ = try applyGood()
            let killed = try SyscallFaults.run(in: try bench.current(), arguments, injecting: "signal=KILL", at: point)
            guard SyscallFaults.wasKilled(killed) else { failures.append("\(point): not killed: \(killed)"); continue }
            // Past the deadline (wall clock), whatever the kill left is settled by the watcher if one was
            // started, else by the next command that takes the lock (this confirm: too late either way).
            sleep(2)
            let late = try bench.lvsNode(["confirm"])
            guard [0, 1].contains(late.status) else { failures.append("\(point): confirm: \(late)"); continue }
            let state = try confirmation()?["state"] as? String
            if state == "pending" || state == "overdue" { failures.append("\(point): still \(state!)") }
            let now = try bench.snapshot()
            if now != good { failures.append("\(point): (- expected, + found)\n\(good.difference(to: now))") }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(chosen.count) kill points:\n\(failures.joined(separator: "\n\n"))")
    }

    /// The watcher killed, the deadline passed, then a reboot: the boot path undoes the change instead
    /// of bringing it back.
    @Test func afterAMissedDeadlineTheBootPathUndoesTheChange() throws {
        let good = try applyGood()
        _ = try applyLockOut(within: 2)
        try bench.current().killProcesses()
        #expect(try waitFor(["overdue"]) == "overdue")
        let status = try bench.lvsNode(["status"])
        #expect(status.status == 2 && status.stdout.contains("is past its deadline"), "\(status)")
        try bench.reboot()
        let start = try bench.lvsNode(["start"])
        #expect(start.status == 0, "\(start)")
        #expect(start.stderr.contains("reverted: the setup was not confirmed by"), "\(start)")
        #expect(try confirmation()?["state"] as? String == "reverted")
        expectSame(try bench.snapshot(), good, "the boot path undid the unconfirmed change and started generation 1")
    }

    /// A reboot before the deadline: `start` brings the change back and arms a new watcher, which
    /// undoes it at the deadline.
    @Test func aRebootBeforeTheDeadlineArmsTheRevertAgain() throws {
        let good = try applyGood()
        let applied = try applyLockOut(within: 6)
        try bench.reboot()
        let start = try bench.lvsNode(["start"])
        #expect(start.status == 0, "\(start)")
        #expect(!(try bench.current().processes().isEmpty), "start arms a new watcher")
        let booted = try bench.snapshot()
        if try confirmation()?["state"] as? String == "pending" { expectSame(booted, applied, "start brought the change back") }
        #expect(try waitFor(["reverted"]) == "reverted")
        expectSame(try bench.snapshot(), good, "the new watcher undid the change")
    }

    @Test func aSetupWhileAChangeAwaitsConfirmationIsRefusedAndARollbackByHandDisarmsIt() throws {
        let good = try applyGood()
        let applied = try applyLockOut(within: 3)
        // plan says so before a setup is refused: a pending change is part of what setup would meet.
        let plan = try bench.lvsNode(["plan"] + Self.good.dropFirst())
        #expect(plan.stdout.contains("awaiting confirmation: generation 2 is undone at")
                && plan.stdout.contains("setup refuses to change the host until"), "\(plan)")
        let second = try bench.lvsNode(Self.good)
        #expect(second.status == 75 && second.stderr.contains("awaits confirmation until"), "\(second)")
        expectSame(try bench.snapshot(), applied, "the refused setup changed nothing")
        let rollback = try bench.lvsNode(["rollback"])
        #expect(rollback.status == 0, "\(rollback)")
        #expect(try confirmation()?["state"] as? String == "disarmed")
        let confirm = try bench.lvsNode(["confirm"])
        #expect(confirm.status == 1 && confirm.stdout.contains("no longer awaits confirmation"), "\(confirm)")
        #expect(try waitForNoWatcher())
        expectSame(try bench.snapshot(), good, "the rollback by hand, and nothing after it")
        #expect(try bench.lvsNode(["history"]).stdout.contains("2 generations; in force: 1"))
        #expect(try rolledBackBecause(2) == nil, "a rollback by hand gives no reason")
    }

    /// `rollback --confirm-within`: unconfirmed, the generation it rolled back is applied again.
    @Test func anUnconfirmedRollbackIsUndoneByApplyingTheGenerationAgain() throws {
        let good = try applyGood()
        let result = try bench.lvsNode(Self.lockOut)
        try #require(result.status == 0, "\(result)")
        let applied = try bench.snapshot()
        let rollback = try bench.lvsNode(["rollback", "--confirm-within", "2"])
        #expect(rollback.status == 0 && rollback.stdout.contains("awaiting confirmation: the rollback of generation 2 (to generation 1)"), "\(rollback)")
        expectSame(try bench.snapshot(), good, "rolled back")
        #expect(try waitFor(["reverted"]) == "reverted")
        expectSame(try bench.snapshot(), applied, "the unconfirmed rollback was undone")
        #expect(try bench.lvsNode(["history"]).stdout.contains("3 generations; in force: 3"))
        #expect(try bench.lvsNode(["status"]).status == 0)
        let because = try rolledBackBecause(2) ?? "none"
        #expect(because.hasPrefix("its rollback was not confirmed by ") && because.hasSuffix(": applied again as generation 3"), "\(because)")
    }

    /// The watcher cannot be started (its clone fails): nothing is applied.
    @Test func whenTheRevertCannotBeArmedNothingIsApplied() throws {
        let good = try applyGood()
        let failed = try bench.current().run(SyscallFaults.strace!, ["-o", "/dev/null", "-qq", "-e", "trace=clone,clone3,vfork",
                                                                      "-e", "inject=clone,clone3,vfork:error=EAGAIN", "--", lvsNodeBinary]
                                                                     + Self.lockOut + ["--confirm-within", "2"] + bench.locations)
        #expect(failed.status == 74, "\(failed)")
        #expect(failed.stderr.contains("nothing was changed"), "\(failed)")
        expectSame(try bench.snapshot(), good, "arming failed, nothing applied")
        #expect(try confirmation()?["state"] as? String == "disarmed")
        #expect(try bench.lvsNode(Self.lockOut).status == 0, "a later setup is not refused")
    }

    @Test(arguments: ["0", "-5", "604801", "soon", ""])
    func aConfirmWindowOutOfRangeIsAUsageErrorAndChangesNothing(_ seconds: String) throws {
        let good = try applyGood()
        let result = try bench.lvsNode(Self.lockOut + ["--confirm-within", seconds])
        #expect(result.status == 64, "\(result)")
        expectSame(try bench.snapshot(), good, "refused before any change")
        #expect(try confirmation() == nil)
    }

    @Test func everyConfirmationDocumentMatchesTheSchema() throws {
        try #require(JSONSchemaCheck.unavailableReason == nil)
        _ = try applyGood()
        let setup = try bench.lvsNode(Self.lockOut + ["--confirm-within", "30", "--json"])
        #expect(try JSONSchemaCheck.validate(setup.stdout).isEmpty, "\(setup)")
        let status = try bench.lvsNode(["status", "--json"])
        #expect(try JSONSchemaCheck.validate(status.stdout).isEmpty, "\(status)")
        let plan = try bench.lvsNode(["plan", "--json"] + Self.good.dropFirst())
        #expect(try JSONSchemaCheck.validate(plan.stdout).isEmpty, "\(plan)")
        let planned = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        #expect((planned?["confirmation"] as? [String: Any])?["state"] as? String == "pending", "\(plan)")
        #expect(try confirmation()?["state"] as? String == "pending")
        let confirm = try bench.lvsNode(["confirm", "--json"])
        #expect(confirm.status == 0)
        #expect(try JSONSchemaCheck.validate(confirm.stdout).isEmpty, "\(confirm)")
        let rollback = try bench.lvsNode(["rollback", "--confirm-within", "30", "--json"])
        #expect(try JSONSchemaCheck.validate(rollback.stdout).isEmpty, "\(rollback)")
        let refused = try bench.lvsNode(Self.good + ["--json"])
        #expect(refused.status == 75)
        #expect(try JSONSchemaCheck.validate(refused.stdout).isEmpty, "\(refused)")
        try bench.current().killProcesses()
    }
}

extension ConfirmKernelTests {
    /// The watcher holds none of its caller's descriptors: a pipe the caller's caller reads to EOF
    /// (an SSH channel, Ansible's) closes when setup exits, not when the watcher does.
    @Test func theWatcherHoldsNoneOfTheCallersPipes() throws {
        _ = try applyGood()
        let script = "(exec 3>&1; \"$@\" >/dev/null 2>&1; echo setup-exited-$?) | cat"
        let piped = try bench.current().run("/bin/sh", ["-c", script, "sh", lvsNodeBinary] + Self.lockOut
                                            + ["--confirm-within", "120"] + bench.locations)
        #expect(piped.stdout.contains("setup-exited-0"), "\(piped)")
        // Had the watcher kept fd 3, cat (and this call) would have waited for the deadline.
        #expect(try confirmation()?["state"] as? String == "pending", "the pipe closed long before the deadline")
        #expect(!(try bench.current().processes().isEmpty), "the watcher is still waiting")
        try bench.current().killProcesses()
    }
}

/// Every role and step kind: a router (addresses, routes, forwarding) and a keepalived director
/// (keepalived.conf, 0600, holding the VRRP password, checked by keepalived -t), each changed with
/// --confirm-within and left unconfirmed, end byte-exact in the generation before.
@Suite(.serialized, .enabled(if: SyscallFaults.unavailableReason == nil, Comment(rawValue: SyscallFaults.unavailableReason ?? "")))
final class ConfirmEveryRoleKernelTests {
    static func director(priority: Int, vip: String) -> String {
        """
        role: director
        mode: dr
        interface: eth0
        persist: none
        init: none
        services:
          - {vip: \(vip), port: 80, real-servers: [{address: 192.0.2.11}, {address: 192.0.2.12}]}
        ha: {state: MASTER, priority: \(priority), interface: eth0, virtual-router-id: 51, password: s3cretpw}
        """
    }

    func undoneAtTheDeadline(_ bench: HostBench, first: [String], second: [String], prepare: (HostBench) throws -> Void = { _ in }) throws {
        defer { bench.remove() }
        try bench.fresh()
        try prepare(bench)
        let applied = try bench.lvsNode(first)
        try #require(applied.status == 0, "\(applied)")
        let before = try bench.snapshot()
        let changed = try bench.lvsNode(second + ["--confirm-within", "2"])
        try #require(changed.status == 0, "\(changed)")
        #expect(try bench.snapshot() != before, "the second generation changes the host")
        let limit = Date().addingTimeInterval(90)
        while Date() < limit, !(try bench.lvsNode(["status", "--json"]).stdout.contains("\"state\":\"reverted\"")) { usleep(100_000) }
        let after = try bench.snapshot()
        #expect(after == before, "(- expected, + found):\n\(before.difference(to: after))")
    }

    @Test func aRouter() throws {
        try undoneAtTheDeadline(HostBench(.router),
                                first: ["setup", "--role", "router", "--address", "eth1=203.0.113.200/24",
                                        "--route", "198.51.100.0/24 via 203.0.113.254"],
                                second: ["setup", "--role", "router", "--address", "eth1=203.0.113.201/24",
                                         "--route", "198.51.100.0/24 via 203.0.113.253", "--ipv6-forwarding"])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs keepalived for keepalived -t"))
    func aKeepalivedDirector() throws {
        let bench = HostBench(.uplinkedRealserver)
        let first = bench.directory.file("first.yaml"), second = bench.directory.file("second.yaml")
        try Self.director(priority: 150, vip: "192.0.2.10").write(toFile: first, atomically: true, encoding: .utf8)
        try Self.director(priority: 100, vip: "192.0.2.30").write(toFile: second, atomically: true, encoding: .utf8)
        // Without IPVS in this kernel, the shipped role's IPVS sysctl steps are left out (the lab proves them).
        try undoneAtTheDeadline(bench, first: ["setup", "--config", first], second: ["setup", "--config", second]) { bench in
            if !hostHasIPVS { try installDirectorRoleWithoutIPVSSysctls(root: bench.root) }
        }
    }
}
