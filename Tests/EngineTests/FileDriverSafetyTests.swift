import Engine
import Foundation
import Glibc
import HostAccess
import NodeModel
import Steps
import Testing
import TestSupport

/// The file driver's part of the safety contract: an interrupted run's temporary files are removed on
/// request, and what rollback could not put back (a FIFO, a directory) is refused at plan time.
@Suite final class FileDriverSafetyTests {
    let directory = TemporaryDirectory()
    var root: String { directory.file("root") }
    var driver: FileDriver { FileDriver(root: HostRoot(root)) }
    var drivers: Drivers { Drivers([driver]) }
    static let ifcfg = "/etc/sysconfig/network-scripts/ifcfg-lo:0"

    init() throws {
        try FileManager.default.createDirectory(atPath: directory.file("root/etc/sysconfig/network-scripts"), withIntermediateDirectories: true)
    }

    deinit { directory.remove() }

    func desired(_ subject: String, _ text: String) -> DesiredStep {
        DesiredStep(name: "files", kind: FileDriver.kindName, desired: [Desired(subject: subject, state: FileDriver.fileState(mode: 0o644, content: text))])
    }

    @Test func aKilledRunsTemporaryIfcfgFileIsRemovedAndNothingElse() throws {
        // What a run killed just before its rename leaves: a complete file network-scripts would bring up at boot.
        let scripts = root + "/etc/sysconfig/network-scripts"
        try "DEVICE=lo:0\nIPADDR=192.0.2.10\nONBOOT=yes\n".write(toFile: scripts + "/ifcfg-lo:0.lvs-node-tmp", atomically: false, encoding: .utf8)
        try "DEVICE=eth0\n".write(toFile: scripts + "/ifcfg-eth0", atomically: false, encoding: .utf8)

        try driver.discardDebris([Self.ifcfg, "/etc/sysconfig/network-scripts/ifcfg-lo:1", "/etc/netplan/60-lvs-node.yaml"])

        #expect(try FileManager.default.contentsOfDirectory(atPath: scripts) == ["ifcfg-eth0"])
    }

    @Test func discardingDebrisNeverFollowsALinkOutOfTheRoot() throws {
        let outside = directory.file("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "someone's\n".write(toFile: outside + "/60-lvs-node.yaml.lvs-node-tmp", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/netplan", withDestinationPath: outside)

        try driver.discardDebris(["/etc/netplan/60-lvs-node.yaml"])

        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["60-lvs-node.yaml.lvs-node-tmp"])
    }

    @Test(arguments: ["a FIFO", "a directory"])
    func thePlannerRefusesToReplaceWhatRollbackCouldNotPutBack(what: String) throws {
        let path = root + Self.ifcfg
        if what == "a FIFO" { #expect(mkfifo(path, 0o644) == 0) } else { #expect(mkdir(path, 0o755) == 0) }
        #expect(throws: SpecErrors.self) {
            _ = try Planner.plan([self.desired(Self.ifcfg, "ONBOOT=yes\n")], previous: [], baseline: [:], drivers: self.drivers)
        }
        do {
            _ = try Planner.plan([desired(Self.ifcfg, "ONBOOT=yes\n")], previous: [], baseline: [:], drivers: drivers)
        } catch let errors as SpecErrors {
            #expect(errors.description.contains("\(path): is \(what)"), "\(errors)")
        }
    }

    @Test func aRegularFileOrALinkAtTheTargetIsStillPlanned() throws {
        try "old\n".write(toFile: root + Self.ifcfg, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/sysconfig/network-scripts/ifcfg-lo:1", withDestinationPath: "/nowhere")
        let plan = try Planner.plan([desired(Self.ifcfg, "new\n"), desired("/etc/sysconfig/network-scripts/ifcfg-lo:1", "new\n")],
                                    previous: [], baseline: [:], drivers: drivers)
        #expect(plan.changes.count == 2)
    }
}
