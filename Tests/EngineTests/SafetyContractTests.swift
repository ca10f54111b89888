import Foundation
import Glibc
import HostAccess
import LVSNode
import NodeModel
import Testing
import TestSupport
@testable import Engine

/// The promises of issue #11 at the engine level: a failure after the first change undoes the run,
/// one writer at a time, recovery before refusal, and state files read as hostile input.
@Suite struct SafetyContractTests {
    // MARK: every failure after the first change undoes the run

    @Test func aGenerationThatCannotBeRecordedUndoesTheRun() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let before = node.kernel.snapshot
        // The next generation's temporary file cannot be created: the record fails after every change.
        try FileManager.default.createDirectory(atPath: "\(node.stateDirectory)/generations/000002.lvs-node-tmp",
                                                withIntermediateDirectories: true)
        #expect {
            try node.agent.setup(FakeNode.realserver("192.0.2.11", "192.0.2.12"))
        } throws: { error in
            guard let failure = error as? RunFailure else { return false }
            return failure.restored && failure.step == "recording generation 2"
        }
        #expect(node.kernel.snapshot == before)
        #expect(try node.agent.history().count == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(node.stateDirectory)/journal"))
    }

    @Test func aJournalThatCannotBeAppendedToAfterTheFirstChangeUndoesTheRun() throws {
        let node = FakeNode()
        let before = node.kernel.snapshot
        let journal = "\(node.stateDirectory)/journal"
        // At the first change (an ARP sysctl), the journal becomes a symlink, which lvs-node never
        // appends through: the second step's intent record fails.
        node.kernel.beforeMutation = { _ in
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: journal)) == nil else { return }
            unlink(journal)
            symlink("/nonexistent", journal)
        }
        #expect {
            try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        } throws: { error in
            guard let failure = error as? RunFailure else { return false }
            return failure.restored
        }
        node.kernel.beforeMutation = nil
        #expect(node.kernel.snapshot == before)
        #expect(try node.agent.history().isEmpty)
    }

    @Test func aRollbackThatCannotBeRecordedPutsTheGenerationBack() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        let applied = node.kernel.snapshot
        try FileManager.default.createDirectory(atPath: "\(node.stateDirectory)/generations/000001.rolled-back.lvs-node-tmp",
                                                withIntermediateDirectories: true)
        #expect {
            try node.agent.rollback()
        } throws: { error in
            (error as? RunFailure)?.restored == true
        }
        #expect(node.kernel.snapshot == applied)
        #expect(try node.agent.history().map(\.isApplied) == [true])
    }

    // MARK: one writer

    @Test func aHeldLockIsBusyAndChangesNothing() throws {
        let node = FakeNode()
        try FileManager.default.createDirectory(atPath: node.stateDirectory, withIntermediateDirectories: true)
        let before = node.kernel.snapshot
        let impatient = NodeAgent(node.environment, lockWait: 0)
        try FileLock.withLock("\(node.stateDirectory)/lock", .exclusive) {
            #expect(throws: FileLock.Busy.self) { try impatient.setup(FakeNode.realserver("192.0.2.10")) }
            #expect(throws: FileLock.Busy.self) { try impatient.rollback() }
            #expect(throws: FileLock.Busy.self) { try impatient.status() }
        }
        #expect(node.kernel.snapshot == before)
    }

    @Test func waitingForTheLockGetsItWhenTheOtherRunEnds() throws {
        let node = FakeNode()
        try FileManager.default.createDirectory(atPath: node.stateDirectory, withIntermediateDirectories: true)
        let held = DispatchSemaphore(value: 0)
        let lock = "\(node.stateDirectory)/lock"
        let holder = Thread {
            try? FileLock.withLock(lock, .exclusive) {
                held.signal()
                usleep(300_000)
            }
        }
        holder.start()
        held.wait()
        let report = try NodeAgent(node.environment, lockWait: 10).setup(FakeNode.realserver("192.0.2.10"))
        #expect(report.generation == 1)
    }

    // MARK: recovery before refusal

    @Test func aKilledRunsFilesDoNotStopTheNextSetup() throws {
        let node = FakeNode()
        try FileManager.default.createDirectory(atPath: "\(node.directory.path)/etc/netplan", withIntermediateDirectories: true)
        let original = node.kernel.snapshot
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10"))
        #expect(FileManager.default.fileExists(atPath: "\(node.directory.path)/etc/netplan/60-lvs-node.yaml"))
        // Make it the state a run killed just before recording its generation leaves: every change
        // made and journaled, no generation.
        let generations = "\(node.stateDirectory)/generations"
        let record = try String(contentsOfFile: "\(generations)/000001", encoding: .utf8)
        // A journal holds private states in place (it is 0600); the generation refers to private/.
        let changes = try record.split(separator: "\n").filter { $0.hasPrefix("change\t") }.map { line in
            try line.split(separator: "\t", omittingEmptySubsequences: false).map { field -> String in
                guard field.hasPrefix("@") else { return String(field) }
                let value = try String(contentsOfFile: "\(node.stateDirectory)/private/\(field.dropFirst())", encoding: .utf8)
                return "=" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
                    .replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\r", with: "\\r")
            }.joined(separator: "\t")
        }
        let journal = "begin\tsetup\t1\nintent\tall\t\(changes.count)\n" + changes.joined(separator: "\n") + "\n"
        try journal.write(toFile: "\(node.stateDirectory)/journal", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(generations)/000001")

        let report = try node.agent.setup(FakeNode.realserver("192.0.2.20"))
        #expect(report.recovery == .undone(steps: 1))
        #expect(report.generation == 1)
        #expect(node.kernel.snapshot.addresses.contains { $0.address == "192.0.2.20" })
        #expect(!node.kernel.snapshot.addresses.contains { $0.address == "192.0.2.10" })
        _ = try node.agent.rollback()
        #expect(node.kernel.snapshot == original)
        #expect(!FileManager.default.fileExists(atPath: "\(node.directory.path)/etc/netplan/60-lvs-node.yaml"))
    }

    // MARK: state files are input

    @Test(arguments: [
        "begin\tsetup\t1\nintent\tvips\t-8\nchange\taddress\tlo 192.0.2.10/32\t!\t=lo:0\n",
        "begin\tsetup\t1\nintent\tvips\t-9\n",
        "begin\tsetup\t1\nintent\tvips\t0\n",
        "begin\tsetup\t1\nintent\tvips\t9223372036854775807\nchange\taddress\tlo 192.0.2.10/32\t!\t=lo:0\napplied\tvips\n",
        "begin\tsetup\t99999999999999999999\n",
        "begin\tsetup\t-1\n",
        "begin\tsetup\t9223372036854775807\n",
    ])
    func aHostileJournalIsADamagedStateErrorNotATrapOrALoop(journal: String) throws {
        let node = FakeNode()
        try FileManager.default.createDirectory(atPath: node.stateDirectory, withIntermediateDirectories: true)
        try journal.write(toFile: "\(node.stateDirectory)/journal", atomically: true, encoding: .utf8)
        let before = node.kernel.snapshot
        #expect(throws: EngineError.self) { try node.agent.setup(FakeNode.realserver("192.0.2.10")) }
        #expect(node.kernel.snapshot == before)
    }

    @Test(arguments: ["9223372036854775807", "1000000", "0000000000000000000000001"])
    func aGenerationNameOutOfRangeIsAnErrorNotATrap(name: String) throws {
        let node = FakeNode()
        let generations = "\(node.stateDirectory)/generations"
        try FileManager.default.createDirectory(atPath: generations, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(generations)/\(name)", contents: Data("generation\t1\ncreated\tx\n".utf8))
        #expect(throws: EngineError.self) { try node.agent.setup(FakeNode.realserver("192.0.2.10")) }
        #expect(throws: EngineError.self) { try node.agent.history() }
    }

    @Test func aTruncatedGenerationIsDamagedNotEmpty() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        let path = "\(node.stateDirectory)/generations/000001"
        let record = try Data(contentsOf: URL(fileURLWithPath: path))
        for keep in [record.count / 3, record.count / 2, record.count - 2] {
            try record.prefix(keep).write(to: URL(fileURLWithPath: path))
            #expect(throws: EngineError.self, "cut to \(keep) bytes") { try node.agent.status() }
            #expect(throws: EngineError.self, "cut to \(keep) bytes") { try node.agent.rollback() }
        }
        try record.write(to: URL(fileURLWithPath: path))
        #expect(try node.agent.status().drift.isEmpty)
    }

    @Test func aGenerationWithChangeLinesRemovedIsDamaged() throws {
        let node = FakeNode()
        _ = try node.agent.setup(FakeNode.realserver("192.0.2.10", "192.0.2.11"))
        let path = "\(node.stateDirectory)/generations/000001"
        let record = try String(contentsOfFile: path, encoding: .utf8)
        let edited = record.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("change\t") }
        try edited.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let applied = node.kernel.snapshot
        #expect {
            try node.agent.rollback()
        } throws: { error in
            "\(error)".contains("generation 1") && "\(error)".contains("checksum")
        }
        #expect(node.kernel.snapshot == applied)
    }
}
