import Foundation
import Testing
import TestSupport

/// The built binary run in a fresh network namespace against the real kernel, with --root and
/// --state-dir in a temporary folder; every outcome read back with `ip -j` and /proc/sys.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "")))
final class RealserverKernelTests {
    let namespace: NetworkNamespace
    let directory = TemporaryDirectory()
    static let arpSysctls = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                             "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce"]

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    @discardableResult
    func lvsNode(_ arguments: String...) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, arguments + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
    }

    func loAddresses() throws -> [String: String] {
        var result: [String: String] = [:]
        for address in try namespace.addresses(device: "lo") { result["\(address.local)/\(address.prefixLength)"] = address.label ?? "" }
        return result
    }

    func snapshot() throws -> NetworkNamespace.Snapshot { try namespace.snapshot(sysctls: Self.arpSysctls) }

    @Test func setupBindsEachVIPAsALabelledHostAddressAndSuppressesARP() throws {
        let result = try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11")
        #expect(result.status == 0, "\(result)")
        let addresses = try loAddresses()
        #expect(addresses["192.0.2.10/32"] == "lo:0")
        #expect(addresses["192.0.2.11/32"] == "lo:1")
        #expect(try namespace.sysctl("net.ipv4.conf.all.arp_ignore") == "1")
        #expect(try namespace.sysctl("net.ipv4.conf.all.arp_announce") == "2")
        #expect(try namespace.sysctl("net.ipv4.conf.lo.arp_ignore") == "1")
        #expect(try namespace.sysctl("net.ipv4.conf.lo.arp_announce") == "2")
        #expect(result.stdout.contains("applied generation 1: 7 changes"))
    }

    /// A killed run is not "in place": status says what the next run undoes, and exits 2.
    @Test func statusAfterAKilledRunSaysWhatTheNextRunUndoesAndIsNotInPlace() throws {
        let before = try snapshot()
        #expect(try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10").status == 0)
        // What a run killed just before recording its generation leaves: its changes live and journaled.
        let generations = directory.file("state/generations")
        let record = try String(contentsOfFile: "\(generations)/000001", encoding: .utf8)
        let changes = record.split(separator: "\n").filter { $0.hasPrefix("change\t") }
        try ("begin\tsetup\t1\nintent\tall\t\(changes.count)\n" + changes.joined(separator: "\n") + "\n")
            .write(toFile: directory.file("state/journal"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(generations)/000001")

        let status = try lvsNode("status")
        #expect(status.status == 2, "\(status)")
        #expect(status.stdout.contains("the next setup or rollback first undoes it"), "\(status)")
        #expect(status.stdout.contains("- address 192.0.2.10/32 on lo (label lo:0)"), "\(status)")
        #expect(!status.stdout.contains("nothing applied"), "\(status)")
        let rollback = try lvsNode("rollback")
        #expect(rollback.status == 0, "\(rollback)")
        #expect(try snapshot() == before)
        #expect(try lvsNode("status").status == 0)
    }

    @Test func aSecondIdenticalSetupChangesNothingAndSaysSo() throws {
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10")
        let before = try snapshot()
        let again = try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10")
        #expect(again.status == 0)
        #expect(again.stdout.contains("no changes needed"))
        #expect(try snapshot() == before)
    }

    @Test func planPrintsTheChangesAndTouchesNothing() throws {
        let before = try snapshot()
        let plan = try lvsNode("plan", "--role", "realserver", "--vip", "192.0.2.10")
        #expect(plan.status == 2, "\(plan)")
        #expect(plan.stdout.contains("+ address 192.0.2.10/32 on lo (label lo:0)"))
        #expect(plan.stdout.contains("~ sysctl net.ipv4.conf.all.arp_ignore 0 → 1"))
        #expect(try snapshot() == before)
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10")
        #expect(try lvsNode("plan", "--role", "realserver", "--vip", "192.0.2.10").status == 0)
    }

    @Test func statusSeesDriftAndSetupRepairsIt() throws {
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11")
        #expect(try lvsNode("status").status == 0)
        try namespace.ip(["addr", "del", "192.0.2.11/32", "dev", "lo"])
        try namespace.setSysctl("net.ipv4.conf.all.arp_ignore", "0")
        let status = try lvsNode("status")
        #expect(status.status == 2, "\(status)")
        #expect(status.stdout.contains("+ address 192.0.2.11/32 on lo (label lo:1)"))
        #expect(status.stdout.contains("~ sysctl net.ipv4.conf.all.arp_ignore 0 → 1"))
        #expect(try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11").status == 0)
        #expect(try loAddresses()["192.0.2.11/32"] == "lo:1")
        #expect(try namespace.sysctl("net.ipv4.conf.all.arp_ignore") == "1")
        #expect(try lvsNode("status").status == 0)
    }

    @Test func rollbacksRestoreExactlyTheAddressesAndSysctlsThatWereThere() throws {
        try namespace.setSysctl("net.ipv4.conf.all.arp_announce", "1")
        try namespace.ip(["addr", "add", "198.51.100.7/32", "dev", "lo", "label", "lo:5"])
        let original = try snapshot()
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "198.51.100.7")
        let first = try snapshot()
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.11", "--vip", "192.0.2.12")
        #expect(try loAddresses()["192.0.2.10/32"] == nil)
        #expect(try loAddresses()["198.51.100.7/32"] == "lo:5", "an address lvs-node found in place stays")
        let back = try lvsNode("rollback")
        #expect(back.status == 0, "\(back)")
        #expect(try snapshot() == first)
        #expect(try lvsNode("rollback").status == 0)
        #expect(try snapshot() == original)
        let nothing = try lvsNode("rollback")
        #expect(nothing.stdout.contains("nothing to roll back"))
        #expect(try snapshot() == original)
    }

    @Test func aKernelFailureMidRunLeavesTheNamespaceExactlyAsBefore() throws {
        // The kernel refuses IPv6 addresses on a device with IPv6 disabled: a real failure after the
        // sysctls and the first VIP were already applied.
        try namespace.setSysctl("net.ipv6.conf.lo.disable_ipv6", "1")
        let before = try snapshot()
        let result = try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "2001:db8::10", "--vip", "192.0.2.11")
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("adding 2001:db8::10/128 to lo"))
        #expect(result.stderr.contains("the host is as it was before the run"))
        #expect(try snapshot() == before)
        #expect(try lvsNode("history").stdout.contains("no generations"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("state/journal")))
    }

    @Test func removingOneVIPLeavesTheOthersAndTheirLabelsAlone() throws {
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "192.0.2.11", "--vip", "2001:db8::10", "--vip", "192.0.2.12")
        #expect(try loAddresses().filter { $0.key != "127.0.0.1/8" && $0.key != "::1/128" }
                == ["192.0.2.10/32": "lo:0", "192.0.2.11/32": "lo:1", "192.0.2.12/32": "lo:2", "2001:db8::10/128": ""])
        let shrink = try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "2001:db8::10", "--vip", "192.0.2.12")
        #expect(shrink.stdout.contains("- address 192.0.2.11/32 on lo (label lo:1)"))
        #expect(!shrink.stdout.contains("192.0.2.10/32") && !shrink.stdout.contains("192.0.2.12/32") && !shrink.stdout.contains("2001:db8::10"))
        try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10", "--vip", "2001:db8::10", "--vip", "192.0.2.12", "--vip", "192.0.2.13")
        #expect(try loAddresses().filter { $0.key != "127.0.0.1/8" && $0.key != "::1/128" }
                == ["192.0.2.10/32": "lo:0", "192.0.2.12/32": "lo:2", "192.0.2.13/32": "lo:1", "2001:db8::10/128": ""])
    }

    /// More VIPs than one netlink batch window holds, from all three documentation ranges.
    static let manyVIPs: [String] = ["192.0.2", "198.51.100", "203.0.113"].flatMap { net in (1...200).map { "\(net).\($0)" } }

    @Test func sixHundredVIPsGoInAndComeOutWhole() throws {
        let before = try snapshot()
        let setup = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver"] + Self.manyVIPs.flatMap { ["--vip", $0] }
                                      + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
        #expect(setup.status == 0, "\(setup)")
        let bound = try loAddresses()
        #expect(Self.manyVIPs.allSatisfy { bound["\($0)/32"] != nil })
        #expect(Set(Self.manyVIPs.compactMap { bound["\($0)/32"] }).count == 600, "each VIP has its own label")
        #expect(try lvsNode("rollback").status == 0)
        #expect(try snapshot() == before)
    }

    @Test func aFailureInALaterBatchWindowUndoesTheEarlierWindows() throws {
        try namespace.setSysctl("net.ipv6.conf.lo.disable_ipv6", "1")
        let before = try snapshot()
        let vips = Self.manyVIPs.prefix(400) + ["2001:db8::10"]
        let setup = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver"] + vips.flatMap { ["--vip", $0] }
                                      + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
        #expect(setup.status == 1, "\(setup)")
        #expect(setup.stderr.contains("adding 2001:db8::10/128 to lo: Permission denied"))
        #expect(try snapshot() == before)
    }

    /// Only a window's last request asks for an acknowledgement; a refused one in the middle is still
    /// answered, named, and the requests the kernel took after it in the same window are undone.
    @Test func aRefusalInTheMiddleOfABatchWindowIsNamedAndUndone() throws {
        try namespace.setSysctl("net.ipv6.conf.lo.disable_ipv6", "1")
        let before = try snapshot()
        let vips = Self.manyVIPs.prefix(300) + ["2001:db8::10"] + Self.manyVIPs[300..<450]
        let setup = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver"] + vips.flatMap { ["--vip", $0] }
                                      + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
        #expect(setup.status == 1, "\(setup)")
        #expect(setup.stderr.contains("adding 2001:db8::10/128 to lo: Permission denied"), "\(setup.stderr)")
        #expect(try snapshot() == before)
    }

    @Test func anIPv6VIPIsAHost128WithoutALabel() throws {
        #expect(try lvsNode("setup", "--role", "realserver", "--vip", "2001:db8::10").status == 0)
        let v6 = try namespace.addresses(device: "lo").first { $0.local == "2001:db8::10" }
        #expect(v6?.prefixLength == 128)
        #expect(try lvsNode("rollback").status == 0)
        #expect(try namespace.addresses(device: "lo").first { $0.local == "2001:db8::10" } == nil)
    }

    @Test func withoutCapNetAdminNothingChanges() throws {
        let setpriv = try #require(which("setpriv"), "util-linux setpriv drops the capability")
        let before = try snapshot()
        let result = try namespace.run(setpriv, ["--inh-caps=-all", "--bounding-set=-net_admin", lvsNodeBinary, "setup",
                                                 "--role", "realserver", "--vip", "192.0.2.10",
                                                 "--root", directory.file("root"), "--state-dir", directory.file("state")])
        #expect(result.status == 77, "\(result)")
        #expect(result.stderr.contains("CAP_NET_ADMIN"))
        #expect(try snapshot() == before)
    }

    @Test func aSpecFileWorksLikeTheFlags() throws {
        let spec = directory.file("node.yaml")
        try "role: realserver\nvips:\n  - 192.0.2.10\n".write(toFile: spec, atomically: true, encoding: .utf8)
        #expect(try lvsNode("setup", "--config", spec).status == 0)
        #expect(try loAddresses()["192.0.2.10/32"] == "lo:0")
        #expect(try lvsNode("setup", "--role", "realserver", "--vip", "192.0.2.10").stdout.contains("no changes needed"))
    }
}
