import Testing
@testable import Engine

@Suite struct StateTextTests {
    @Test func aGenerationReadsBackAsWritten() throws {
        let awkward = "tab\there, newline\nthere, backslash \\ and \\t literally, =, !"
        let changes = [
            Change(kind: "sysctl", subject: "net/ipv4/conf/eth0.100/rp_filter", before: "1", after: "0"),
            Change(kind: "address", subject: "lo 192.0.2.10/32", before: nil, after: "lo:0"),
            Change(kind: "file", subject: awkward, before: awkward, after: nil),
            Change(kind: "file", subject: "empty", before: "", after: "!"),
        ]
        var generation = Generation(number: 42, created: "2026-11-23T20:00:00Z", spec: "role: realserver\nvips: [\"\\t\"]\n",
                                    summary: awkward, steps: [DesiredStep(name: "a b", kind: "address", desired: [
                                        Desired(subject: "lo 192.0.2.10/32", state: "lo:0"), Desired(subject: awkward, state: nil)])],
                                    changes: changes, previous: nil)
        generation.rolledBack = "later"
        let read = try Generation(text: generation.text)
        #expect(read.number == 42)
        #expect(read.spec == generation.spec)
        #expect(read.summary == awkward)
        #expect(read.steps == generation.steps)
        #expect(read.changes == changes)
        #expect(read.baseline == generation.baseline)
        #expect(read.rolledBack == "later")
        #expect(read.baseline["file \(awkward)"] == .some(awkward))
    }

    @Test func aDamagedGenerationIsRefused() {
        #expect(throws: (any Error).self) { try Generation(text: "generation\t1\ncreated\tx\nchange\tsysctl\tkey\t1\t2\n") }
        #expect(throws: (any Error).self) { try Generation(text: "created\tx\n") }
    }
}
