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
        let namespace = try bench.fresh()
        let log = bench.scratch + "/trace"
        let result = try namespace.run(SyscallFaults.strace!, ["-o", log, "-qq", "-s", "200", "-e", "trace=openat,fsync,fdatasync,sendmsg,sendto", "--",
                                                              lvsNodeBinary, "setup", "--role", "realserver", "--vip", "192.0.2.10",
                                                              "--persist", "none", "--init", "none"] + bench.locations)
        try #require(result.status == 0, "\(result)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        var descriptors: [String: String] = ["AT_FDCWD": ""]   // fd → path, as opened (relative to a directory fd)
        var journalSynced = false, directorySynced = false, firstChange: Int?
        for (index, line) in lines.enumerated() {
            let arguments = line.drop { $0 != "(" }.dropFirst()
            let fd = String(arguments.prefix { $0 != "," && $0 != ")" })
            if line.hasPrefix("openat("), let name = line.split(separator: "\"").dropFirst().first,
               let opened = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), Int(opened) != nil {
                let path = name.hasPrefix("/") ? String(name) : (descriptors[fd] ?? "?") + "/" + name
                descriptors[opened] = path
                // The first change may be a sysctl (a write to /proc/sys) or a file under the root.
                if path.hasPrefix("/proc/sys/") && (line.contains("O_WRONLY") || line.contains("O_RDWR")) { firstChange = index; break }
                if path.hasPrefix(bench.root) && line.contains("O_CREAT") { firstChange = index; break }
            }
            if line.hasPrefix("fdatasync("), descriptors[fd] == bench.state + "/journal" { journalSynced = true }
            if line.hasPrefix("fsync("), journalSynced, descriptors[fd] == bench.state { directorySynced = true }
            if line.hasPrefix("sendmsg(") || line.hasPrefix("sendto("), !line.contains("NLM_F_DUMP"), !line.contains("GETFAMILY") {
                firstChange = index
                break
            }
        }
        #expect(firstChange != nil, "no change was traced:\n\(lines.suffix(20).joined(separator: "\n"))")
        #expect(journalSynced, "the journal's data was not synced before the first change")
        #expect(directorySynced, "the new journal's directory entry was not synced before the first change")
    }

    /// Every step's intent reaches the disk in one flush before the first change: a realserver
    /// setup (sysctls, addresses, then the sysctl.d file) syncs its journal's data once, not once per step.
    @Test func aSetupSyncsAllItsIntentsOnceBeforeItsFirstChange() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let namespace = try bench.fresh()
        let log = bench.scratch + "/trace"
        let result = try namespace.run(SyscallFaults.strace!, ["-o", log, "-qq", "-s", "100000", "-e", "trace=openat,write,fdatasync,sendmsg,sendto", "--",
                                                              lvsNodeBinary, "setup", "--role", "realserver", "--vip", "192.0.2.10",
                                                              "--vip", "192.0.2.11", "--persist", "none", "--init", "none"] + bench.locations)
        try #require(result.status == 0, "\(result)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        var descriptors: [String: String] = ["AT_FDCWD": ""]
        var journalSyncs: [Int] = [], intentsWritten: [String] = [], firstChange: Int?
        for (index, line) in lines.enumerated() {
            let fd = String(line.drop { $0 != "(" }.dropFirst().prefix { $0 != "," && $0 != ")" })
            if line.hasPrefix("openat("), let name = line.split(separator: "\"").dropFirst().first,
               let opened = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces), Int(opened) != nil {
                let path = name.hasPrefix("/") ? String(name) : (descriptors[fd] ?? "?") + "/" + name
                descriptors[opened] = path
                // The sysctls come first: a write to /proc/sys is a change.
                if firstChange == nil, path.hasPrefix("/proc/sys/"), line.contains("O_WRONLY") || line.contains("O_RDWR") { firstChange = index }
            }
            let isJournal = descriptors[fd] == bench.state + "/journal"
            if line.hasPrefix("fdatasync("), isJournal { journalSyncs.append(index) }
            if line.hasPrefix("write("), isJournal, firstChange == nil {
                intentsWritten += line.components(separatedBy: "\\n").filter { $0.hasPrefix("intent\\t") }
                    .map { $0.components(separatedBy: "\\t")[1] }
            }
            if firstChange == nil, line.hasPrefix("sendmsg(") || line.hasPrefix("sendto("), !line.contains("NLM_F_DUMP"), !line.contains("GETFAMILY") {
                firstChange = index
            }
        }
        let change = try #require(firstChange, "no change was traced")
        #expect(intentsWritten == ["arp-suppression", "vips", "sysctl-file"], "intents on disk before the first change: \(intentsWritten)")
        #expect(journalSyncs.count == 1, "the journal was synced \(journalSyncs.count) times")
        #expect(journalSyncs.allSatisfy { $0 < change }, "the journal was synced after the first change")
    }
}
