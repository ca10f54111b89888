import Foundation
import Testing
import TestSupport

/// What a batch of address requests costs in system calls, as strace sees the real binary: the kernel
/// is asked to acknowledge only each window's last request (it answers a refused one anyway), so a
/// setup of hundreds of VIPs reads a few datagrams, not one per VIP.
@Suite(.enabled(if: SyscallFaults.unavailableReason == nil, Comment(rawValue: SyscallFaults.unavailableReason ?? "")))
struct NetlinkBatchKernelTests {
    @Test func sixHundredVIPsAreAcknowledgedOncePerWindowNotOncePerVIP() throws {
        let bench = HostBench(.realserver)
        defer { bench.remove() }
        let vips = RealserverKernelTests.manyVIPs
        let trace = try TracedSetup(bench, vips: vips, calls: "sendto,sendmsg,recvfrom,recvmsg", stringLimit: 0)
        let changeRequests = trace.lines.filter(TracedSetup.isChangeRequest).count
        let receives = trace.lines.filter { $0.hasPrefix("recvfrom(") || $0.hasPrefix("recvmsg(") }.count
        // 600 VIPs are three windows of at most 256 requests; the rest are the run's few dumps and lookups.
        #expect(changeRequests >= 3 && changeRequests < 10, "\(changeRequests) change requests")
        #expect(receives < 40, "\(receives) receives for \(vips.count) VIPs")
    }
}
