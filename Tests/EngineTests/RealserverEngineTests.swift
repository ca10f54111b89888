import Engine
import Foundation
import HostAccess
import LVSNode
import NodeModel
import Testing
import TestSupport

@Suite struct RealserverEngineTests {
    @Test func setupBindsVIPsWithLabelsAndSuppressesARP() throws {
        let node = FakeNode()
        let report = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        #expect(report.generation == 1)
        #expect(report.lines.filter { !$0.hasPrefix(" ") }.count == 7)
        #expect(node.kernel.labels(on: "lo") == ["127.0.0.1/8": "lo", "192.0.2.10/32": "lo:0", "192.0.2.11/32": "lo:1"])
        for key in ["all", "lo"] {
            #expect(node.kernel.sysctl("net.ipv4.conf.\(key).arp_ignore") == "1")
            #expect(node.kernel.sysctl("net.ipv4.conf.\(key).arp_announce") == "2")
        }
    }

    @Test func sysctlsAreSetBeforeTheVIPsAreAdded() throws {
        let node = FakeNode()
        var order: [String] = []
        node.kernel.beforeMutation = { order.append($0) }
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        #expect(order.last == "add 192.0.2.10/32")
        #expect(order.dropLast().allSatisfy { $0.hasPrefix("write ") })
    }

    @Test func theSysctlDropInHoldsTheRolesSysctls() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let conf = try String(contentsOfFile: node.directory.file("etc/sysctl.d/90-lvs-node.conf"), encoding: .utf8)
        #expect(conf.contains("net.ipv4.conf.lo.arp_announce = 2"))
    }

    @Test func anEditedFileIsDriftAndSetupPutsItBack() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let path = node.directory.file("etc/sysctl.d/90-lvs-node.conf")
        let written = try String(contentsOfFile: path, encoding: .utf8)
        try written.replacingOccurrences(of: "net.ipv4.conf.lo.arp_announce = 2", with: "net.ipv4.conf.lo.arp_announce = 0")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let drift = try node.agent.status().drift
        #expect(drift.first == "~ file /etc/sysctl.d/90-lvs-node.conf (mode 0644)")
        #expect(drift.contains("    -net.ipv4.conf.lo.arp_announce = 0"))
        #expect(drift.contains("    +net.ipv4.conf.lo.arp_announce = 2"))
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == written)
    }

    @Test(arguments: [
        (["etc/netplan/"], "", "netplan"),
        (["etc/sysconfig/network-scripts/"], "", "ifcfg"),
        ([], "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n", "netplan"),
        ([], "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", "ifcfg"),
        ([], "ID=debian\n", "none"),
    ])
    func persistAutoFollowsTheRoot(directories: [String], osRelease: String, expected: String) throws {
        let node = FakeNode()
        for directory in directories {
            try FileManager.default.createDirectory(atPath: node.directory.file(directory), withIntermediateDirectories: true)
        }
        if !osRelease.isEmpty {
            try FileManager.default.createDirectory(atPath: node.directory.file("etc"), withIntermediateDirectories: true)
            try osRelease.write(toFile: node.directory.file("etc/os-release"), atomically: true, encoding: .utf8)
        }
        let (spec, _) = try node.agent.resolve(FakeNode.realserver("192.0.2.10"))
        #expect(spec.persist.rawValue == expected)
        #expect(spec.initSystem == .none)
    }

    /// CentOS 6 keeps its scripts in /etc/rc.d/init.d and links /etc/init.d and /etc/rcN.d to rc.d.
    @Test func aCentOSStyleRootIsSysV() throws {
        let node = FakeNode()
        for level in 0...6 {
            try FileManager.default.createDirectory(atPath: node.directory.file("etc/rc.d/rc\(level).d"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: node.directory.file("etc/rc\(level).d"), withDestinationPath: "rc.d/rc\(level).d")
        }
        try FileManager.default.createDirectory(atPath: node.directory.file("etc/rc.d/init.d"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: node.directory.file("etc/init.d"), withDestinationPath: "rc.d/init.d")
        try "ID=\"centos\"\nID_LIKE=\"rhel fedora\"\n".write(toFile: node.directory.file("etc/os-release"), atomically: true, encoding: .utf8)
        let (spec, _) = try node.agent.resolve(FakeNode.realserver("192.0.2.10"))
        #expect(spec.initSystem == .sysv)
        #expect(spec.persist == .ifcfg)
    }

    @Test func initAutoFollowsTheRoot() throws {
        let node = FakeNode()
        try FileManager.default.createDirectory(atPath: node.directory.file("etc/init.d"), withIntermediateDirectories: true)
        #expect(try node.agent.resolve(FakeNode.realserver("192.0.2.10")).0.initSystem == .sysv)
        try FileManager.default.createDirectory(atPath: node.directory.file("etc/systemd/system"), withIntermediateDirectories: true)
        #expect(try node.agent.resolve(FakeNode.realserver("192.0.2.10")).0.initSystem == .systemd)
    }

    @Test func secondIdenticalSetupChangesNothing() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let mutations = node.kernel.mutations
        let again = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        #expect(again.generation == nil)
        #expect(again.lines.isEmpty)
        #expect(node.kernel.mutations == mutations)
        #expect(try node.agent.history().count == 1)
    }

    @Test func planTouchesNothingAndListsEveryChange() throws {
        let node = FakeNode()
        let before = node.kernel.snapshot
        let plan = try node.agent.plan(FakeNode.realserver("192.0.2.10"))
        #expect(node.kernel.snapshot == before)
        #expect(Array(plan.lines.prefix(7)) == [
            "~ sysctl net.ipv4.conf.all.arp_ignore 0 → 1",
            "~ sysctl net.ipv4.conf.all.arp_announce 0 → 2",
            "~ sysctl net.ipv4.conf.lo.arp_ignore 0 → 1",
            "~ sysctl net.ipv4.conf.lo.arp_announce 0 → 2",
            "+ address 192.0.2.10/32 on lo (label lo:0)",
            "+ file /etc/sysctl.d/90-lvs-node.conf (mode 0644)",
            "    --- /dev/null",
        ])
        #expect(plan.lines.contains("    +net.ipv4.conf.all.arp_ignore = 1"))
        #expect(!FileManager.default.fileExists(atPath: node.stateDirectory))
    }

    @Test func statusReportsDriftAndSetupRepairsIt() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        #expect(try node.agent.status().drift.isEmpty)
        node.kernel.addressList.removeAll { $0.address == "192.0.2.11" }
        node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv4.conf.all.arp_ignore")] = "0"
        let drift = try node.agent.status().drift
        #expect(drift == ["~ sysctl net.ipv4.conf.all.arp_ignore 0 → 1", "+ address 192.0.2.11/32 on lo (label lo:1)"])
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        #expect(try node.agent.status().drift.isEmpty)
        #expect(node.kernel.labels(on: "lo")["192.0.2.11/32"] == "lo:1")
    }

    @Test func addingAVIPKeepsTheOtherLabelsAndRemovingOneTouchesOnlyIt() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        let grown = try node.agent.setup(FakeNode.realserver("192.0.2.12", "192.0.2.10", "192.0.2.11"))
        #expect(grown.lines == ["+ address 192.0.2.12/32 on lo (label lo:2)"])
        let shrunk = try node.agent.setup(FakeNode.realserver("192.0.2.12", "192.0.2.10"))
        #expect(shrunk.lines == ["- address 192.0.2.11/32 on lo (label lo:1)"])
        #expect(node.kernel.labels(on: "lo") == ["127.0.0.1/8": "lo", "192.0.2.10/32": "lo:0", "192.0.2.12/32": "lo:2"])
    }

    @Test func aVIPThatWasThereBeforeLvsNodeStaysWhenItLeavesTheSpec() throws {
        let node = FakeNode()
        node.kernel.addressList.append(InterfaceAddress(interface: "lo", address: "192.0.2.20", prefixLength: 32, label: "lo:7"))
        let first = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.20"))
        #expect(!first.lines.contains { $0.contains("192.0.2.20") })
        let second = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        #expect(second.lines.isEmpty)
        #expect(node.kernel.labels(on: "lo")["192.0.2.20/32"] == "lo:7")
    }

    @Test func repeatedRollbacksWalkBackToTheHostBeforeLvsNode() throws {
        let node = FakeNode()
        node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv4.conf.all.arp_announce")] = "1"
        let original = node.kernel.snapshot
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let afterFirst = node.kernel.snapshot
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.11", "2001:db8::10"))
        #expect(try node.agent.rollback().generation == 2)
        #expect(node.kernel.snapshot == afterFirst)
        #expect(try node.agent.rollback().generation == 1)
        #expect(node.kernel.snapshot == original)
        #expect(try node.agent.rollback().generation == nil)
        #expect(node.kernel.snapshot == original)
        #expect(try node.agent.history().allSatisfy { !$0.isApplied })
    }

    @Test func rollbackAfterDriftStillRestoresThePriorState() throws {
        let node = FakeNode()
        let original = node.kernel.snapshot
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        node.kernel.addressList.removeAll { $0.address == "192.0.2.10" }
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == original)
    }

    @Test func aFailureInTheMiddleUndoesTheWholeRun() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let before = node.kernel.snapshot
        node.kernel.failAdding["192.0.2.12/32"] = ENOSPC
        #expect {
            try node.agent.setup(FakeNode.realserver("192.0.2.11", "192.0.2.12", "192.0.2.13"))
        } throws: { error in
            guard let failure = error as? RunFailure else { return false }
            return failure.restored && failure.step == "vips" && "\(failure)".contains("192.0.2.12/32")
                && "\(failure)".contains("the host is as it was before the run")
        }
        #expect(node.kernel.snapshot == before)
        #expect(try node.agent.history().count == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(node.stateDirectory)/journal"))
    }

    @Test func aFailureDuringTheSysctlStepRestoresTheSysctlsAlreadyWritten() throws {
        let node = FakeNode()
        let before = node.kernel.snapshot
        node.kernel.failWriting[SysctlKey(dotted: "net.ipv4.conf.lo.arp_announce")] = EROFS
        #expect(throws: RunFailure.self) { try node.agent.setup(FakeNode.realserver("192.0.2.10")) }
        #expect(node.kernel.snapshot == before)
    }

    @Test func anUndoThatFailsIsReportedLoudlyAndKeepsTheJournal() throws {
        let node = FakeNode()
        node.kernel.failAdding["192.0.2.11/32"] = ENOSPC
        node.kernel.failRemoving["192.0.2.10/32"] = EBUSY
        #expect {
            try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        } throws: { error in
            guard let failure = error as? RunFailure else { return false }
            return !failure.restored && "\(failure)".contains("ROLLBACK FAILED") && "\(failure)".contains("192.0.2.10/32")
        }
        #expect(FileManager.default.fileExists(atPath: "\(node.stateDirectory)/journal"))
        // Once the cause is gone, the next run finishes the undo before it does anything else.
        node.kernel.failRemoving = [:]
        node.kernel.failAdding = [:]
        let report = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        #expect(report.recovery == .undone(steps: 2))
    }

    /// Every step of a rollback is named `undo generation N`, and every intent is on disk before the
    /// first: the steps an interrupted rollback had started are counted from its `applied` records.
    @Test func anInterruptedRollbackReportsTheStepsItHadStarted() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        node.kernel.failRemoving["192.0.2.11/32"] = EBUSY
        node.kernel.failAdding["192.0.2.10/32"] = ENOSPC
        #expect(throws: RunFailure.self) { try node.agent.rollback() }
        node.kernel.failRemoving = [:]
        node.kernel.failAdding = [:]
        let report = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        // The file step's undo, then the addresses' (where it failed); the sysctls' had not begun.
        #expect(report.recovery == .undone(steps: 2))
        #expect(node.kernel.snapshot.addresses.contains { $0.address == "192.0.2.10" })
    }

    @Test func withoutThePrivilegeNothingIsTouched() throws {
        let node = FakeNode()
        node.mayChangeNetwork = false
        let before = node.kernel.snapshot
        #expect(throws: NotPermitted.self) { try node.agent.setup(FakeNode.realserver("192.0.2.10")) }
        #expect(throws: NotPermitted.self) { try node.agent.rollback() }
        #expect(node.kernel.snapshot == before)
        #expect(!FileManager.default.fileExists(atPath: node.stateDirectory))
    }

    @Test func aMissingInterfaceIsADataErrorBeforeAnyChange() throws {
        let node = FakeNode()
        node.kernel.interfaces = ["eth0"]
        let before = node.kernel.snapshot
        #expect(throws: SpecErrors.self) { try node.agent.setup(FakeNode.realserver("192.0.2.10")) }
        #expect(node.kernel.snapshot == before)
    }

    @Test func aKernelWithoutASysctlFailsBeforeAnyChange() throws {
        let node = FakeNode()
        node.kernel.sysctlValues[SysctlKey(dotted: "net.ipv4.conf.lo.arp_announce")] = nil
        let before = node.kernel.snapshot
        #expect {
            try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        } throws: { error in
            error is MissingKernelFeature && "\(error)".contains("net.ipv4.conf.lo.arp_announce")
        }
        #expect(node.kernel.snapshot == before)
    }
}
