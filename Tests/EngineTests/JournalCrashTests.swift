import Foundation
import HostAccess
import LVSNode
import NodeModel
import Steps
import Testing
import TestSupport
@testable import Engine

/// A run killed at any point leaves a journal from which recovery restores the host as it was before
/// the run: after every record, in the middle of every record, and between the changes of a step.
@Suite struct JournalCrashTests {
    struct CrashPoint {
        let name: String
        let journal: [UInt8]
        let host: FakeKernel.Snapshot
    }

    /// Runs a realserver setup over `kernel` and records the journal and host at every possible crash.
    func crashPoints(kernel: FakeKernel, directory: TemporaryDirectory) throws -> [CrashPoint] {
        let catalog = RoleCatalog(overrideDirectory: directory.file("none")) { _ in nil }
        let (spec, role) = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10", "192.0.2.11", "2001:db8::10"])
            .resolve(with: catalog)
        let drivers = Drivers([AddressDriver(kernel), SysctlDriver(kernel)])
        let steps = try StepBuilder(spec: spec, previous: [], addresses: kernel).desiredSteps(for: role)
        let plan = try Planner.plan(steps, previous: [], baseline: [:], drivers: drivers)
        let journal = Journal(path: directory.file("journal"))
        var points: [CrashPoint] = []
        func bytes() -> [UInt8] { (try? DurableFiles.read(journal.path)) .flatMap { $0 } ?? [] }
        journal.afterAppend = {
            let journalBytes = bytes()
            points.append(CrashPoint(name: "after record \(points.count)", journal: journalBytes, host: kernel.snapshot))
            // The same record torn in half: nothing after it has happened yet.
            if let lastStart = journalBytes.dropLast().lastIndex(of: UInt8(ascii: "\n")).map({ $0 + 1 }) ?? Optional(0) {
                let cut = lastStart + (journalBytes.count - lastStart) / 2
                points.append(CrashPoint(name: "torn record \(points.count)", journal: Array(journalBytes[..<cut]), host: kernel.snapshot))
            }
        }
        kernel.beforeMutation = { what in
            points.append(CrashPoint(name: "before \(what)", journal: bytes(), host: kernel.snapshot))
        }
        try Executor(drivers: drivers, journal: journal).run(plan, header: .init(command: .setup, generation: 1))
        points.append(CrashPoint(name: "after the last change, before the generation was saved", journal: bytes(), host: kernel.snapshot))
        kernel.beforeMutation = nil
        return points
    }

    @Test func recoveryRestoresTheHostFromEveryCrashPoint() throws {
        let kernel = FakeKernel()
        let original = kernel.snapshot
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let points = try crashPoints(kernel: kernel, directory: directory)
        #expect(points.count > 12)
        let drivers = Drivers([AddressDriver(kernel), SysctlDriver(kernel)])
        let journal = Journal(path: directory.file("journal"))
        let generations = GenerationStore(directory: directory.file("generations"))
        for point in points {
            kernel.restore(point.host)
            try DurableFiles.writeAtomically(journal.path, point.journal)
            _ = try Recovery.recover(journal: journal, generations: generations, drivers: drivers)
            #expect(kernel.snapshot == original, "crash \(point.name)")
            #expect(!journal.exists, "crash \(point.name)")
        }
    }

    @Test func aRunWhoseGenerationWasSavedKeepsItsChanges() throws {
        let kernel = FakeKernel()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let points = try crashPoints(kernel: kernel, directory: directory)
        let finished = try #require(points.last)
        let generations = GenerationStore(directory: directory.file("generations"))
        try generations.save(Generation(number: 1, created: "now", spec: "", summary: "", steps: [], changes: [], previous: nil))
        let journal = Journal(path: directory.file("journal"))
        try DurableFiles.writeAtomically(journal.path, finished.journal)
        let outcome = try Recovery.recover(journal: journal, generations: generations,
                                           drivers: Drivers([AddressDriver(kernel), SysctlDriver(kernel)]))
        #expect(outcome == .completedRun)
        #expect(kernel.snapshot == finished.host)
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
