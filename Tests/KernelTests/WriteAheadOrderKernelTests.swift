import Foundation
import Testing
import TestSupport

/// The write-ahead guarantee as the kernel sees it: in a traced setup, the journal's first record is
/// synced — its data (fdatasync) and, the file being new, its name (fsync of the state directory) —
/// before the first request that changes the host (a netlink message that is not a dump).
@Suite(.enabled(if: SyscallFaults.unavailableReason == nil, Comment(rawValue: SyscallFaults.unavailableReason ?? "")))
struct WriteAheadOrderKernelTests {
    @Test func theJournalAndItsNameAreOnDiskBeforeTheFirstChange() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let trace = try TracedSetup(bench, vips: ["192.0.2.10"], calls: "openat,fsync,fdatasync,sendmsg,sendto", stringLimit: 200)
        var journalSynced = false, directorySynced = false, firstChange: Int?
        for (index, line) in trace.lines.enumerated() {
            let path = trace.descriptor(line).path
            if let opened = trace.opened(line) {
                // The first change may be a sysctl (a write to /proc/sys) or a file under the root.
                if opened.path.hasPrefix("/proc/sys/") && opened.writable { firstChange = index; break }
                if opened.path.hasPrefix(bench.root) && line.contains("O_CREAT") { firstChange = index; break }
            }
            if line.hasPrefix("fdatasync("), path == bench.state + "/journal" { journalSynced = true }
            if line.hasPrefix("fsync("), journalSynced, path == bench.state { directorySynced = true }
            if TracedSetup.isChangeRequest(line) { firstChange = index; break }
        }
        #expect(firstChange != nil, "no change was traced:\n\(trace.lines.suffix(20).joined(separator: "\n"))")
        #expect(journalSynced, "the journal's data was not synced before the first change")
        #expect(directorySynced, "the new journal's directory entry was not synced before the first change")
    }

    /// Every step's intent reaches the disk in one flush before the first change: a realserver
    /// setup (sysctls, addresses, then the sysctl.d file) syncs its journal's data once, not once per step.
    @Test func aSetupSyncsAllItsIntentsOnceBeforeItsFirstChange() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let trace = try TracedSetup(bench, vips: ["192.0.2.10", "192.0.2.11"], calls: "openat,write,fdatasync,sendmsg,sendto", stringLimit: 100_000)
        var journalSyncs: [Int] = [], intentsWritten: [String] = [], firstChange: Int?
        for (index, line) in trace.lines.enumerated() {
            // The sysctls come first: a write to /proc/sys is a change.
            if firstChange == nil, let opened = trace.opened(line), opened.path.hasPrefix("/proc/sys/"), opened.writable { firstChange = index }
            let isJournal = trace.descriptor(line).path == bench.state + "/journal"
            if line.hasPrefix("fdatasync("), isJournal { journalSyncs.append(index) }
            if line.hasPrefix("write("), isJournal, firstChange == nil {
                intentsWritten += line.components(separatedBy: "\\n").filter { $0.hasPrefix("intent\\t") }
                    .map { $0.components(separatedBy: "\\t")[1] }
            }
            if firstChange == nil, TracedSetup.isChangeRequest(line) { firstChange = index }
        }
        let change = try #require(firstChange, "no change was traced")
        #expect(intentsWritten == ["arp-suppression", "vips", "sysctl-file"], "intents on disk before the first change: \(intentsWritten)")
        #expect(journalSyncs.count == 1, "the journal was synced \(journalSyncs.count) times")
        #expect(journalSyncs.allSatisfy { $0 < change }, "the journal was synced after the first change")
    }
}

/// A realserver setup of `vips` run under `strace -e trace=CALLS` in a fresh namespace, its lines read
/// in order; `opened` and `descriptor` follow which path each descriptor was opened as.
final class TracedSetup {
    let lines: [String]
    private var paths: [String: String] = ["AT_FDCWD": ""]

    init(_ bench: HostBench, vips: [String], calls: String, stringLimit: Int) throws {
        let namespace = try bench.fresh()
        let log = bench.scratch + "/trace"
        let result = try namespace.run(SyscallFaults.strace!, ["-o", log, "-qq", "-s", String(stringLimit), "-e", "trace=" + calls, "--",
                                                              lvsNodeBinary, "setup", "--role", "realserver"] + vips.flatMap { ["--vip", $0] }
                                                              + ["--persist", "none", "--init", "none"] + bench.locations)
        try #require(result.status == 0, "\(result)")
        lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The descriptor a call's first argument names, and the path it was opened as (nil: not seen).
    func descriptor(_ line: String) -> (fd: String, path: String?) {
        let fd = String(line.drop { $0 != "(" }.dropFirst().prefix { $0 != "," && $0 != ")" })
        return (fd, paths[fd])
    }

    /// For a successful openat: the path it opened (relative ones joined to their directory's) and
    /// whether for writing; remembered for the descriptor it returned. Call it on the lines in order.
    func opened(_ line: String) -> (path: String, writable: Bool)? {
        guard line.hasPrefix("openat("), let name = line.split(separator: "\"").dropFirst().first,
              let returned = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), Int(returned) != nil else { return nil }
        let path = name.hasPrefix("/") ? String(name) : (descriptor(line).path ?? "?") + "/" + name
        paths[returned] = path
        return (path, line.contains("O_WRONLY") || line.contains("O_RDWR"))
    }

    /// A netlink request that changes the host: not a dump, not a family lookup.
    static func isChangeRequest(_ line: String) -> Bool {
        (line.hasPrefix("sendmsg(") || line.hasPrefix("sendto(")) && !line.contains("NLM_F_DUMP") && !line.contains("GETFAMILY")
    }
}
