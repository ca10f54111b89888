import Foundation
import HostAccess
import LVSNode
import NodeModel
import Render
import Steps
import Testing
import TestSupport
@testable import Engine

/// A run killed at any point leaves a journal from which recovery restores the host as it was before
/// the run: after every record, in the middle of every record, and between the changes of a step.
@Suite struct JournalCrashTests {
    struct Host: Equatable {
        let kernel: FakeKernel.Snapshot
        let files: [String: Data]
    }

    struct CrashPoint {
        let name: String
        let journal: [UInt8]
        let host: Host
    }

    /// The fake kernel and the files under the root, as one observable state.
    final class World {
        let kernel = FakeKernel()
        let directory = TemporaryDirectory()
        var root: String { directory.file("root") }
        var drivers: Drivers { Drivers([AddressDriver(kernel), SysctlDriver(kernel), LinkDriver(kernel), RouteDriver(kernel), NftablesDriver(kernel), FileDriver(root: HostRoot(root))]) }

        var host: Host {
            Host(kernel: kernel.snapshot, files: directory.tree().filter { $0.key.hasPrefix("root/") })
        }

        func restore(_ host: Host) {
            kernel.restore(host.kernel)
            try? FileManager.default.removeItem(atPath: root)
            for (name, data) in host.files {
                let path = directory.file(name)
                try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: path, contents: data)
            }
        }

        deinit { directory.remove() }
    }

    /// Runs a realserver setup (VIPs, sysctls, the sysctl.d and netplan files) and records the journal
    /// and host at every possible crash.
    func crashPoints(_ world: World) throws -> [CrashPoint] {
        let kernel = world.kernel, directory = world.directory
        let catalog = RoleCatalog(overrideDirectory: directory.file("none")) { _ in nil }
        let (spec, role) = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10", "192.0.2.11", "2001:db8::10"],
                                                   persist: "netplan", initSystem: "none").resolve(with: catalog)
        let drivers = world.drivers
        let renderer = TemplateRenderer(overrideDirectory: directory.file("none")) { _ in nil }
        let steps = try StepBuilder(spec: spec, previous: [], host: HostView(addresses: kernel, links: kernel, routes: kernel, packetFilter: kernel), renderer: renderer,
                                    context: RenderContext(binary: "/usr/local/sbin/lvs-node", root: world.root, stateDirectory: "/var/lib/lvs-node"))
            .desiredSteps(for: role)
        let plan = try Planner.plan(steps, previous: [], baseline: [:], drivers: drivers)
        let journal = Journal(path: directory.file("journal"))
        var points: [CrashPoint] = []
        func bytes() -> [UInt8] { (try? DurableFiles.read(journal.path)) .flatMap { $0 } ?? [] }
        journal.afterAppend = {
            let journalBytes = bytes()
            points.append(CrashPoint(name: "after record \(points.count)", journal: journalBytes, host: world.host))
            // The same record torn in half: nothing after it has happened yet.
            if let lastStart = journalBytes.dropLast().lastIndex(of: UInt8(ascii: "\n")).map({ $0 + 1 }) ?? Optional(0) {
                let cut = lastStart + (journalBytes.count - lastStart) / 2
                points.append(CrashPoint(name: "torn record \(points.count)", journal: Array(journalBytes[..<cut]), host: world.host))
            }
        }
        kernel.beforeMutation = { what in
            points.append(CrashPoint(name: "before \(what)", journal: bytes(), host: world.host))
        }
        let beforeSaving = Commit("recording the generation") {
            points.append(CrashPoint(name: "after the last change, before the generation was saved", journal: bytes(), host: world.host))
        }
        try Executor(drivers: drivers, journal: journal).run(plan, header: .init(command: .setup, generation: 1), commits: [beforeSaving])
        kernel.beforeMutation = nil
        return points
    }

    @Test func recoveryRestoresTheHostFromEveryCrashPoint() throws {
        let world = World()
        try FileManager.default.createDirectory(atPath: world.root + "/etc/netplan", withIntermediateDirectories: true)
        let original = world.host
        let points = try crashPoints(world)
        #expect(points.count > 12)
        #expect(points.last?.host.files.keys.contains("root/etc/netplan/60-lvs-node.yaml") == true)
        let journal = Journal(path: world.directory.file("journal"))
        let generations = GenerationStore(directory: world.directory.file("generations"))
        for point in points {
            world.restore(point.host)
            try DurableFiles.writeAtomically(journal.path, point.journal)
            _ = try Recovery.recover(journal: journal, generations: generations, drivers: world.drivers)
            #expect(world.host == original, "crash \(point.name)")
            #expect(!journal.exists, "crash \(point.name)")
        }
    }

    @Test func aRunWhoseGenerationWasSavedKeepsItsChanges() throws {
        let world = World()
        let points = try crashPoints(world)
        let finished = try #require(points.last)
        let generations = GenerationStore(directory: world.directory.file("generations"))
        try generations.save(Generation(number: 1, created: "now", spec: "", summary: "", steps: [], changes: [], previous: nil))
        let journal = Journal(path: world.directory.file("journal"))
        try DurableFiles.writeAtomically(journal.path, finished.journal)
        let outcome = try Recovery.recover(journal: journal, generations: generations, drivers: world.drivers)
        #expect(outcome == .completedRun)
        #expect(world.host.kernel == finished.host.kernel)
        #expect(!journal.exists)
    }

    @Test func aDamagedRecordInTheMiddleIsAnErrorNotAGuess() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let journal = Journal(path: directory.file("journal"))
        try DurableFiles.writeAtomically(journal.path, Array("begin\tsetup\t1\nsomething else\napplied\tvips\n".utf8))
        #expect(throws: EngineError.self) { try journal.load() }
    }
}
