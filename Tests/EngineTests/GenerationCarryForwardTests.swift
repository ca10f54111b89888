import Testing
import TestSupport
@testable import Engine

/// A new generation on top of one read from a file carries that file's baseline records forward as they
/// are and merges in only the keys its changes add, instead of decoding the whole baseline (a director's
/// table) and sorting it again. What it writes must be, byte for byte, what the slow way writes.
@Suite struct GenerationCarryForwardTests {
    /// States of kind `file` that start with "secret" go to the private store, as a 0600 file's would.
    static func isPrivate(_ kind: String, _ state: String) -> Bool { kind == "file" && state.hasPrefix("secret") }
    static func privately(_ kind: String?, _ value: String) -> String? {
        guard kind.map({ isPrivate($0, value) }) ?? true else { return nil }
        return "@" + GenerationStore.privateName(value)
    }

    /// A director's generation in force: IPv4 and IPv6 real servers, a sysctl, a private file, a private spec.
    func first(extraBaseline: [Change] = []) -> Generation {
        var servers: [Desired] = [Desired(subject: "service fwmark 1", state: "wrr")]
        var changes = [Change(kind: "ipvs", subject: "service fwmark 1", before: nil, after: "wrr")]
        for index in 1...40 {
            let subject = index % 3 == 0 ? "server fwmark 1 [2001:db8::\(index)]:80" : "server fwmark 1 198.18.0.\(index):0"
            servers.append(Desired(subject: subject, state: "dr weight \(index)"))
            changes.append(Change(kind: "ipvs", subject: subject, before: nil, after: "dr weight \(index)"))
        }
        changes += [Change(kind: "sysctl", subject: "net/ipv4/ip_forward", before: "0", after: "1"),
                    Change(kind: "file", subject: "/etc/keepalived/keepalived.conf", before: "secret old", after: "secret new")]
        var generation = Generation(number: 1, created: "2026-11-24T10:00:00Z", spec: "role: director\nha: {password: \"p\\tw\"}\n",
                                    summary: "director (dr)", steps: [
                                        DesiredStep(name: "IPVS table", kind: "ipvs", desired: servers),
                                        DesiredStep(name: "files", kind: "file", desired: [Desired(subject: "/etc/keepalived/keepalived.conf", state: "secret new")])],
                                    changes: changes + extraBaseline, previous: nil)
        generation.specIsPrivate = true
        generation.maskedSpec = "role: director\nha: {password: \"********\"}\n"
        return generation
    }

    /// Saved, then read back from the file as the next run reads it.
    func readBack(_ generation: Generation, _ directory: TemporaryDirectory) throws -> Generation {
        try GenerationStore(directory: directory.file("generations")).save(generation, isPrivate: Self.isPrivate)
        return try #require(try GenerationStore(directory: directory.file("./generations")).current())
    }

    /// One real server replaced (its key is new, the old one's is there), plus keys that sort before
    /// and after every other, a private file's, a state with escapes, and one key changed twice.
    func oneServiceChanged(on previous: Generation) -> Generation {
        let changes = [Change(kind: "ipvs", subject: "server fwmark 1 198.18.0.40:0", before: "dr weight 40", after: nil),
                       Change(kind: "ipvs", subject: "server fwmark 1 198.18.9.9:0", before: nil, after: "dr weight 1"),
                       Change(kind: "address", subject: "eth0 192.0.2.10/32", before: "eth0:9\ttab", after: "eth0:0"),
                       Change(kind: "zone", subject: "last", before: nil, after: "x"),
                       Change(kind: "file", subject: "/etc/other.conf", before: "secret kept", after: nil),
                       Change(kind: "ipvs", subject: "server fwmark 1 198.18.9.9:0", before: "dr weight 7", after: "dr weight 2")]
        // The table with one real server replaced, one reweighted and one added at its end; the files as they were.
        var steps = previous.steps
        steps[0].desired[40] = Desired(subject: "server fwmark 1 198.18.9.9:0", state: "dr weight 2")
        steps[0].desired[7] = Desired(subject: steps[0].desired[7].subject, state: "dr weight 70")
        steps[0].desired.append(Desired(subject: "server fwmark 1 198.18.9.10:0", state: nil))
        steps.append(DesiredStep(name: "new\tstep", kind: "file", desired: [Desired(subject: "/etc/new", state: "secret 3")]))
        var generation = Generation(number: 2, created: "2026-11-24T11:00:00Z", spec: "role: director\nha: {password: \"p\\tw2\"}\n",
                                    summary: "director (dr)", steps: steps, changes: changes, previous: previous)
        generation.specIsPrivate = true
        generation.maskedSpec = previous.maskedSpec
        return generation
    }

    @Test func aOneServiceChangeWritesItsGenerationAsTheSlowWayWithoutDecodingTheBaseline() throws {
        // (The steps' records equal to the previous generation's are copied from its file: the same bytes.)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let previous = try readBack(first(), directory)
        let next = oneServiceChanged(on: previous)
        let fast = next.bytes(privately: Self.privately)
        #expect(!previous.baselineIsDecoded, "the previous baseline was decoded to write the next one")
        var slow = next
        slow.baseline = next.baseline   // a baseline given whole is sorted and written the slow way
        slow.steps = next.steps         // steps given whole are written record by record
        #expect(fast == slow.bytes(privately: Self.privately))
        // And the way a generation on top of one made in this process (no file records) writes it.
        let inMemory = oneServiceChanged(on: first())
        #expect(fast == inMemory.bytes(privately: Self.privately))
        // Read back, it is the baseline the slow way gives: the first change of a key wins.
        let read = try Generation(bytes: fast, resolve: { name in
            ["secret old", "secret kept", "secret new"].first { GenerationStore.privateName($0) == name } ?? "?"
        })
        #expect(read.baseline == inMemory.baseline)
        #expect(read.baseline["ipvs server fwmark 1 198.18.9.9:0"] == .some(String?.none))
        #expect(read.baseline["file /etc/keepalived/keepalived.conf"] == .some("secret old"))
    }

    /// The planner asks for the states of the subjects a run releases; a few are found in the file.
    @Test func theBaselineStatesOfAFewKeysAreFoundWithoutDecodingTheBaseline() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let previous = try readBack(first(), directory)
        let keys = ["ipvs server fwmark 1 198.18.0.40:0", "sysctl net/ipv4/ip_forward", "file /etc/keepalived/keepalived.conf", "ipvs none"]
        let found = previous.baselineStates(of: keys)
        #expect(!previous.baselineIsDecoded)
        let expected: [String: String?] = ["ipvs server fwmark 1 198.18.0.40:0": String?.none, "sysctl net/ipv4/ip_forward": .some("0"),
                                           "file /etc/keepalived/keepalived.conf": .some("secret old")]
        #expect(found == expected)
        #expect(found == previous.baselineStates(of: keys + (0..<100).map { "many \($0)" }))
    }

    /// Keys whose bytes would not sort as their Strings (a tab escaped, non-ASCII) or a baseline not
    /// as this release writes it: the slow way, with the same result.
    @Test func aBaselineTheMergeCannotTakeIsWrittenTheSlowWay() throws {
        for awkward in [Change(kind: "file", subject: "/etc/a\tb", before: "x", after: nil),
                        Change(kind: "address", subject: "eth0 é", before: nil, after: "eth0:1"),
                        Change(kind: "file", subject: "/etc/back\\slash", before: nil, after: "y")] {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let previous = try readBack(first(extraBaseline: [awkward]), directory)
            #expect(oneServiceChanged(on: previous).bytes(privately: Self.privately)
                    == oneServiceChanged(on: first(extraBaseline: [awkward])).bytes(privately: Self.privately), "\(awkward.subject)")
        }
        // An earlier release's file: baseline records out of order, between changes, and a secret kept in
        // place (before private values): the new generation, repeating the record, keeps it privately.
        let body = """
            format\t2
            generation\t1
            created\tx
            step\tfiles\tfile
            desired\t/etc/k.conf\t=secret inline
            desired\t/etc/plain\t=plain
            desired\t/etc/was-private\t@0123
            change\tipvs\tservice fwmark 1\t!\t=wrr
            baseline\tipvs service fwmark 1\t!
            change\tsysctl\tnet/ipv4/ip_forward\t=0\t=1
            baseline\tsysctl net/ipv4/ip_forward\t=0
            baseline\taddress eth0 192.0.2.10/32\t!

            """
        let earlier = try Generation(bytes: Array((body + "end\t\(Checksum.fnv1a64(Array(body.utf8)))\n").utf8), resolve: { _ in "public now" })
        let states: [String: String?] = ["sysctl net/ipv4/ip_forward": .some("0"), "address eth0 192.0.2.10/32": String?.none]
        #expect(earlier.baselineStates(of: ["sysctl net/ipv4/ip_forward", "address eth0 192.0.2.10/32", "ipvs x"]) == states)
        #expect(earlier.steps.count == 1)
        let next = Generation(number: 2, created: "y", spec: "", summary: "", steps: earlier.steps,
                              changes: [Change(kind: "ipvs", subject: "server fwmark 1 198.18.0.1:0", before: nil, after: "dr")], previous: earlier)
        var slow = next
        slow.baseline = next.baseline
        slow.steps = next.steps
        #expect(next.bytes(privately: Self.privately) == slow.bytes(privately: Self.privately))
        #expect(String(decoding: next.bytes(privately: Self.privately), as: UTF8.self)
            .contains("desired\t/etc/k.conf\t@\(GenerationStore.privateName("secret inline"))\ndesired\t/etc/plain\t=plain\ndesired\t/etc/was-private\t=public now\n"))
        #expect(Array(next.text.utf8).count > 0 && next.text.contains("baseline\taddress eth0 192.0.2.10/32\t!\nbaseline\tipvs server fwmark 1 198.18.0.1:0\t!\nbaseline\tipvs service fwmark 1\t!\nbaseline\tsysctl net/ipv4/ip_forward\t=0\n"))
    }

    /// A baseline or steps set on a generation after it was read replace what its file had: the next
    /// generation carries forward what was set.
    @Test func whatIsSetAfterReadingIsWhatTheNextGenerationCarries() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var previous = try readBack(first(), directory)
        previous.baseline = ["ipvs x": .some("y")]
        previous.steps = [DesiredStep(name: "only", kind: "ipvs", desired: [Desired(subject: "service fwmark 1", state: "wrr")])]
        let next = Generation(number: 2, created: "z", spec: "", summary: "", steps: previous.steps, changes: [], previous: previous)
        let text = String(decoding: next.bytes(privately: Self.privately), as: UTF8.self)
        #expect(text.contains("step\tonly\tipvs\ndesired\tservice fwmark 1\t=wrr\nbaseline\tipvs x\t=y\nend\t"), "\(text)")
    }
}
