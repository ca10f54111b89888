import Glibc
import HostAccess
import Steps
import Testing
import TestSupport
@testable import Engine

@Suite struct StateTextTests {
    /// The writer copies the runs between escaped bytes whole; what it writes must be what escaping
    /// byte by byte gives, escapes at either end and side by side included.
    @Test func aFieldIsEscapedExactlyAsByteByByte() {
        func byteByByte(_ text: String) -> [UInt8] {
            [9] + text.utf8.flatMap { byte -> [UInt8] in
                switch byte {
                case 9: [92, UInt8(ascii: "t")]
                case 10: [92, UInt8(ascii: "n")]
                case 13: [92, UInt8(ascii: "r")]
                case 92: [92, 92]
                default: [byte]
                }
            }
        }
        for text in ["", "plain", "\n", "\t\r\n\\", "a\tb", "end\n", "\\start", "two\n\nnewlines", "é\n€\t😀",
                     String(repeating: "services:\n  - {fwmark: 1}\n", count: 100), String(repeating: "abcdefg\\", count: 9),
                     String(repeating: "a long line of a spec, without a tab: 70 bytes or so before the newline\n", count: 20),
                     "\n" + String(repeating: "x", count: 300) + "\n\n", String(repeating: "y", count: 300)]
                    + (0..<20).map { String(repeating: "x", count: $0) + "\t" + String(repeating: "y", count: 17 - min($0, 17)) + "é\\\r\n" } {
            var writer = StateTextWriter()
            writer.field(text)
            #expect(writer.bytes == byteByByte(text), "\(text.debugDescription)")
        }
    }

    @Test func aGenerationReadsBackAsWritten() throws {
        let awkward = "tab\there, newline\nthere, backslash \\ and \\t literally, =, !"
        let changes = [
            Change(kind: "sysctl", subject: "net/ipv4/conf/eth0.100/rp_filter", before: "1", after: "0"),
            Change(kind: "address", subject: "lo 192.0.2.10/32", before: nil, after: "lo:0"),
            Change(kind: "file", subject: awkward, before: awkward, after: nil),
            Change(kind: "file", subject: "empty", before: "", after: "!"),
        ]
        let generation = Generation(number: 42, created: "2026-11-23T20:00:00Z", spec: "role: realserver\nvips: [\"\\t\"]\n",
                                    summary: awkward, steps: [DesiredStep(name: "a b", kind: "address", desired: [
                                        Desired(subject: "lo 192.0.2.10/32", state: "lo:0"), Desired(subject: awkward, state: nil)])],
                                    changes: changes, previous: nil)
        let read = try Generation(bytes: Array(generation.text.utf8))
        #expect(read.number == 42)
        #expect(read.spec == generation.spec)
        #expect(read.summary == awkward)
        #expect(read.steps == generation.steps)
        #expect(read.changes == changes)
        #expect(read.baseline == generation.baseline)
        #expect(read.baseline["file \(awkward)"] == .some(awkward))
    }

    /// Written into bytes without a String per field: still exactly the records older releases
    /// wrote and read (a generation outlives the binary that wrote it).
    @Test func aGenerationIsWrittenInTheFormatItAlwaysHad() throws {
        let generation = Generation(number: 3, created: "2026-11-24T10:00:00Z", spec: "role: realserver\nvips: [\"192.0.2.10\"]\n",
                                    summary: "realserver (dr)", steps: [
                                        DesiredStep(name: "vips", kind: "address", desired: [Desired(subject: "lo 192.0.2.10/32", state: "lo:0")]),
                                        DesiredStep(name: "files", kind: "file", desired: [Desired(subject: "/etc/a\tb", state: nil)])],
                                    changes: [Change(kind: "address", subject: "lo 192.0.2.10/32", before: nil, after: "lo:0"),
                                              Change(kind: "sysctl", subject: "net/ipv4/conf/all/arp_ignore", before: "0", after: "1")],
                                    previous: nil)
        let body = """
            format\t2
            generation\t3
            created\t2026-11-24T10:00:00Z
            summary\trealserver (dr)
            spec\trole: realserver\\nvips: ["192.0.2.10"]\\n
            step\tvips\taddress
            desired\tlo 192.0.2.10/32\t=lo:0
            step\tfiles\tfile
            desired\t/etc/a\\tb\t!
            change\taddress\tlo 192.0.2.10/32\t!\t=lo:0
            change\tsysctl\tnet/ipv4/conf/all/arp_ignore\t=0\t=1
            baseline\taddress lo 192.0.2.10/32\t!
            baseline\tsysctl net/ipv4/conf/all/arp_ignore\t=0

            """
        #expect(generation.text == body + "end\t\(Checksum.fnv1a64(Array(body.utf8)))\n")
    }

    @Test func theStoreFindsTheGenerationInForceByNameAndMarksRollbacks() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = GenerationStore(directory: directory.file("generations"))
        #expect(try store.current() == nil)
        #expect(try store.nextNumber() == 1)
        let first = Generation(number: 1, created: "t1", spec: "", summary: "one", steps: [], changes: [], previous: nil)
        var second = Generation(number: 2, created: "t2", spec: "", summary: "two", steps: [], changes: [], previous: first)
        try store.save(first)
        try store.save(second)
        #expect(try store.current()?.summary == "two")
        second.rolledBack = "t3"
        try store.save(second)
        #expect(try store.current()?.summary == "one")
        #expect(try store.nextNumber() == 3)
        #expect(try store.all().map(\.rolledBack) == [nil, "t3"])
    }

    /// A generation's changes, baseline and spec are made into Strings only when a run asks for them;
    /// what would make them unreadable is still found when the file is read, before anything is believed.
    @Test func aMalformedChangeOrBaselineIsRefusedWhenTheGenerationIsReadNotWhenItIsUsed() {
        for record in ["change\tsysctl\tkey\t=1\t2", "change\tsysctl\tkey\t!!\t=2", "baseline\tsysctl key\t1", "baseline\tsysctl key\t"] {
            let body = "format\t2\ngeneration\t1\ncreated\tx\n\(record)\n"
            // A valid checksum, as if written so: only the record itself is wrong.
            let bytes = Array((body + "end\t\(Checksum.fnv1a64(Array(body.utf8)))\n").utf8)
            #expect(throws: (any Error).self, "\(record)") { try Generation(bytes: bytes) }
        }
    }

    /// A private value a change refers to is resolved when the file is read: a missing one is an error then.
    @Test func aMissingPrivateValueOfAChangeIsAnErrorWhenTheGenerationIsRead() throws {
        let body = "format\t2\ngeneration\t1\ncreated\tx\nchange\tfile\t/etc/k.conf\t!\t@ABC\nbaseline\tfile /etc/k.conf\t@DEF\n"
        let bytes = Array((body + "end\t\(Checksum.fnv1a64(Array(body.utf8)))\n").utf8)
        #expect(throws: Damaged.self) { try Generation(bytes: bytes, resolve: { _ in throw Damaged("missing") }) }
        let read = try Generation(bytes: bytes, resolve: { "kept \($0)" })
        #expect(read.changes == [Change(kind: "file", subject: "/etc/k.conf", before: nil, after: "kept ABC")])
        #expect(read.baseline == ["file /etc/k.conf": .some("kept DEF")])
    }

    /// A file as an earlier release wrote it (format 2, escapes, a private spec, changes and a baseline
    /// out of their usual order) reads back the same whichever part is asked for first.
    @Test func aGenerationFileOfAnEarlierReleaseReadsBackWhicheverPartIsAskedFirst() throws {
        let body = """
            format\t2
            generation\t7
            created\t2026-11-20T10:00:00Z
            summary\tdirector (dr)
            spec\trole: director\\nservices: []\\n\\\\t
            step\tvips\taddress
            desired\teth0 192.0.2.10/32\t=eth0:0
            step\ttable\tipvs
            desired\tservice fwmark 1\t=wrr
            desired\tserver fwmark 1 198.18.0.1:0\t=dr weight 1
            change\tipvs\tservice fwmark 1\t!\t=wrr
            baseline\tipvs service fwmark 1\t!
            change\tipvs\tserver fwmark 1 198.18.0.1:0\t!\t=dr weight 1
            baseline\tipvs server fwmark 1 198.18.0.1:0\t!
            baseline\taddress eth0 192.0.2.10/32\t=eth0:9\\ttab

            """
        let bytes = Array((body + "end\t\(Checksum.fnv1a64(Array(body.utf8)))\n").utf8)
        let changes = [Change(kind: "ipvs", subject: "service fwmark 1", before: nil, after: "wrr"),
                       Change(kind: "ipvs", subject: "server fwmark 1 198.18.0.1:0", before: nil, after: "dr weight 1")]
        let baseline: [String: String?] = ["ipvs service fwmark 1": String?.none, "ipvs server fwmark 1 198.18.0.1:0": String?.none,
                                           "address eth0 192.0.2.10/32": .some("eth0:9\ttab")]
        let first = try Generation(bytes: bytes)
        #expect(first.baseline == baseline && first.changes == changes && first.spec == "role: director\nservices: []\n\\t")
        let second = try Generation(bytes: bytes)
        #expect(second.spec == first.spec && second.changes == changes && second.baseline == baseline)
        #expect(second.number == 7 && second.summary == "director (dr)" && second.steps.map(\.desired.count) == [1, 2])
        // A copy shares what was read; setting a part of one changes only that one.
        var copy = second
        copy.changes = []
        #expect(copy.changes.isEmpty && second.changes == changes)
    }

    @Test func aDamagedGenerationIsRefused() {
        #expect(throws: (any Error).self) { try Generation(bytes: Array("generation\t1\ncreated\tx\nchange\tsysctl\tkey\t1\t2\n".utf8)) }
        #expect(throws: (any Error).self) { try Generation(bytes: Array("created\tx\n".utf8)) }
    }
}

/// The store keeps the generation it last decoded or saved, with the file's bytes, so a run that reads
/// the one in force twice decodes it once; what it returns must be what decoding the file gives, and a
/// file changed in place (even within one clock tick, same size) is read again.
@Suite struct GenerationMemoryTests {
    func sample() -> Generation {
        var generation = Generation(number: 4, created: "2026-11-24T10:00:00Z", spec: "role: director\nha: {password: secret}\n",
                                    summary: "director (dr)", steps: [
                                        DesiredStep(name: "vips", kind: "address", desired: [Desired(subject: "lo 192.0.2.10/32", state: "lo:0")]),
                                        DesiredStep(name: "files", kind: "file", desired: [Desired(subject: "/etc/k.conf", state: "password secret")])],
                                    changes: [Change(kind: "address", subject: "lo 192.0.2.10/32", before: nil, after: "lo:0"),
                                              Change(kind: "file", subject: "/etc/k.conf", before: nil, after: "password secret")],
                                    previous: nil)
        generation.specIsPrivate = true
        generation.maskedSpec = "role: director\nha: {password: '***'}\n"
        return generation
    }

    @Test func theGenerationKeptAfterSavingIsTheOneTheFileDecodesTo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = GenerationStore(directory: directory.file("generations"))
        try store.save(sample(), isPrivate: { kind, _ in kind == "file" })
        let kept = try #require(try store.current())
        // Another spelling of the same directory is another key: this one decodes the file.
        let decoded = try #require(try GenerationStore(directory: directory.file("./generations")).current())
        #expect(kept.number == decoded.number && kept.created == decoded.created && kept.summary == decoded.summary)
        #expect(kept.spec == decoded.spec && kept.specIsPrivate == decoded.specIsPrivate && kept.maskedSpec == decoded.maskedSpec)
        #expect(kept.steps == decoded.steps && kept.changes == decoded.changes && kept.baseline == decoded.baseline)
        #expect(decoded.steps[1].desired[0].state == "password secret")
    }

    /// `history` lists every generation with its number of changes: a director's generation has
    /// thousands, and counting them must not make each one a String.
    @Test func historyCountsAGenerationsChangesWithoutDecodingThem() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try GenerationStore(directory: directory.file("generations")).save(sample(), isPrivate: { kind, _ in kind == "file" })
        // Another spelling of the directory: the file is decoded, not the saved value kept.
        let listed = try GenerationStore(directory: directory.file("./generations")).all()
        let generation = try #require(listed.first)
        #expect(listed.count == 1 && generation.changeCount == 2)
        #expect(!generation.changesAreDecoded)
        #expect(generation.changes.count == generation.changeCount)
    }

    /// A run that keeps every subject the generation in force wanted (the no-op) has nothing to send
    /// back to its state before lvs-node, so the baseline (a director's whole table) stays undecoded;
    /// a run that drops one decodes it.
    @Test func aPlanThatReleasesNoSubjectLeavesTheBaselineUndecoded() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try GenerationStore(directory: directory.file("generations")).save(sample(), isPrivate: { kind, _ in kind == "file" })
        let current = try #require(try GenerationStore(directory: directory.file("./generations")).current())
        let addresses = current.steps.filter { $0.kind == AddressDriver.kindName }
        let drivers = Drivers([AddressDriver(FakeKernel())])
        _ = try Planner.plan(addresses, previous: addresses, baseline: current.baseline, drivers: drivers)
        #expect(!current.baselineIsDecoded)
        _ = try Planner.plan([], previous: addresses, baseline: current.baseline, drivers: drivers)
        #expect(current.baselineIsDecoded)
    }

    @Test func aGenerationFileChangedAfterItWasReadIsReadAgain() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = GenerationStore(directory: directory.file("generations"))
        try store.save(sample(), isPrivate: { kind, _ in kind == "file" })
        #expect(try store.current()?.number == 4)
        // The same size, one byte changed in place: the checksum no longer matches.
        let path = directory.file("generations/000004")
        var bytes = try #require(try DurableFiles.read(path))
        bytes[bytes.count / 2] ^= 1
        let fd = open(path, O_WRONLY)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
        #expect(throws: EngineError.self) { try store.current() }
    }
}
