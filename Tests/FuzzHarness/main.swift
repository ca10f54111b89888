import Engine
import Glibc
import LVSNode
import NodeModel

// Runs lvs-node's input readers over hostile inputs in a process of its own, so a trap or an endless
// loop is seen by the test that started it (as a signal or a timeout) instead of killing the test
// runner. Used by Tests/InputFuzzTests.
//
//   lvs-node-fuzz one READER FILE SCRATCH           read FILE once
//   lvs-node-fuzz mutate READER SEED COUNT SECONDS SCRATCH
//                                                   COUNT inputs mutated from READER's seeds (or until
//                                                   SECONDS pass); each is first written to
//                                                   SCRATCH/current so a crash can be reproduced
//
// READER: spec, user-data, journal, generation, confirmation. Exit 0: every input was read or refused with an error,
// each within `perInputLimit`; 3: an input took longer; 64: usage. A trap is a signal, a loop a timeout.

/// The bound on one input, far above what any legal input costs.
let perInputLimit: Duration = .seconds(2)

enum Reader: String, CaseIterable {
    case spec, userData = "user-data", journal, generation, confirmation
}

/// Reads `bytes` as `reader` does; a thrown error is a refusal, which is fine.
func read(_ reader: Reader, _ bytes: [UInt8], scratch: String) {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
    switch reader {
    case .spec:
        _ = try? SpecInput.fromYAML(bytes: bytes, source: "fuzz.yaml").resolve(with: catalog)
    case .userData:
        if let input = try? UserData.spec(in: bytes, source: "user-data") {
            _ = try? input.resolve(with: catalog)
        }
    case .journal:
        let path = "\(scratch)/journal"
        write(path, bytes)
        _ = try? Journal(path: path).load()
    case .generation:
        let directory = "\(scratch)/generations"
        mkdir(directory, 0o700)
        write("\(directory)/000001", bytes)
        let store = GenerationStore(directory: directory)
        // Its spec, changes and baseline are decoded when first asked for: ask, so they are read too.
        for generation in (try? store.all()) ?? [] { _ = (generation.spec, generation.changes, generation.baseline) }
        if let generation = try? store.current() { _ = (generation.spec, generation.changes, generation.baseline) }
        _ = try? store.nextNumber()
    case .confirmation:
        let path = "\(scratch)/confirmation"
        write(path, bytes)
        if let confirmation = try? ConfirmationStore(path: path).load() {
            _ = (confirmation.id, confirmation.deadlineText, confirmation.isOverdue())
        }
    }
}

// MARK: seeds: valid inputs of each kind, written by lvs-node's own writers where it has them

func seeds(_ reader: Reader, scratch: String) -> [[UInt8]] {
    switch reader {
    case .spec:
        return specSeeds.map { Array($0.utf8) }
    case .userData:
        let plain = "#cloud-config\npackages: [keepalived]\nruncmd:\n  - ls *.txt\nlvs_node:\n"
            + specSeeds[0].split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        let multipart = "Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n--XX\n"
            + "Content-Type: text/cloud-config\n\n" + plain + "--XX--\n"
        return [plain, multipart].map { Array($0.utf8) }
    case .journal:
        let path = "\(scratch)/seed-journal"
        unlink(path)
        let journal = Journal(path: path)
        try? journal.begin(.init(command: .setup, generation: 3))
        // Two intent records, as a release that flushed one per step wrote them: still a journal to read.
        try? journal.intents([("vips", [Change(kind: "address", subject: "lo 192.0.2.10/32", before: nil, after: "lo:0"),
                                        Change(kind: "sysctl", subject: "net.ipv4.conf.all.arp_ignore", before: "0", after: "1")])])
        try? journal.applied(step: "vips")
        try? journal.intents([("file", [Change(kind: "file", subject: "/etc/x", before: "tab\there", after: nil)])])
        return [readAll(path)]
    case .generation:
        let directory = "\(scratch)/seed-generations"
        let generation = Generation(
            number: 1, created: "2026-11-24T07:00:00Z", spec: "role: realserver\nvips: [192.0.2.10]\n", summary: "realserver dr",
            steps: [DesiredStep(name: "vips", kind: "address", desired: [Desired(subject: "lo 192.0.2.10/32", state: "lo:0")])],
            changes: [Change(kind: "address", subject: "lo 192.0.2.10/32", before: nil, after: "lo:0")], previous: nil)
        try? GenerationStore(directory: directory).save(generation)
        return [readAll("\(directory)/000001")]
    case .confirmation:
        let path = "\(scratch)/seed-confirmation"
        let store = ConfirmationStore(path: path)
        var seeds: [[UInt8]] = []
        for state in [Confirmation.State.pending, .confirmed(at: "2026-11-24T07:00:00Z"), .disarmed(at: "2026-11-24T07:00:00Z", reason: "by\thand")] {
            try? store.save(Confirmation(command: .rollback, inForce: 2, newest: 5, restore: 5, deadline: 1_795_500_000, state: state))
            seeds.append(readAll(path))
        }
        return seeds
    }
}

let specSeeds = [
    "role: realserver\nmode: dr\nvips:\n  - 192.0.2.10\n  - 2001:db8::10\npersist: netplan\ninit: systemd\n",
    """
    role: director
    mode: dr
    interface: eth0
    drain: 5
    timeouts: {tcp: 900, tcpfin: 120, udp: 300}
    ha: {state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51, password: s3cret, unicast-source: 192.0.2.2, unicast-peers: [192.0.2.3]}
    services:
      - vip: 192.0.2.10
        port: 80
        scheduler: wrr
        persistence: 300
        netmask: 255.255.255.0
        check: {type: http, path: /health, status: 200}
        real-servers:
          - {address: 198.51.100.11, weight: 2}
          - {address: 198.51.100.12, forward: tun}
      - {fwmark: 7, vip: 192.0.2.20, ports: [80, 443], real-servers: [{address: 198.51.100.13}]}

    """,
    "role: router\naddresses:\n  - {interface: eth1, address: 203.0.113.1/24}\nroutes:\n  - {to: 198.51.100.0/24, via: 203.0.113.254}\n",
]

// MARK: mutation

/// SplitMix64: small, seeded, the same sequence on every machine.
struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}

/// Fragments that have broken parsers before, or would: YAML indicators, numbers at the edges,
/// NUL and control bytes, addresses in disguise, the characters rendered files give meaning to.
let tokens: [[UInt8]] = [
    "&a ", "*a", "&b [*a,*a,*a]", "\\0", "\0", "-9", "-8", "-1", "0", "9223372036854775807", "-9223372036854775808",
    "99999999999999999999", "\t", "\n", "\r\n", "[", "]", "{", "}", ": ", "- ", "? ", "---\n", "...\n", "!!str ", "!foo ",
    "|\n  ", ">-\n  ", "'", "\"", "#", "!", "%YAML 1.1\n", "~", "null", "::ffff:127.0.0.1", "::127.0.0.1", "e0\n#",
    "\u{FEFF}", "\u{85}", "\u{2028}", "\\x00", "\\u0000", "intent\tvips\t-8\n", "intent\tvips\t-9\n", "begin\tsetup\t-1\n",
    "generation\t9223372036854775807\n", "change\ta\tb\t-\t-\n", "desired\tx\t\\\n", "=?utf-8?", "--XX\n",
    "Content-Transfer-Encoding: base64\n", "\u{7F}", "\u{1B}[31m",
].map { Array($0.utf8) }

let edgeNumbers: [[UInt8]] = ["-9", "-8", "-1", "0", "9223372036854775807", "-9223372036854775808", "99999999999999999999"]
    .map { Array($0.utf8) }

func mutate(_ input: [UInt8], _ others: [[UInt8]], _ random: inout Generator) -> [UInt8] {
    var bytes = input
    for _ in 0...random.below(4) {
        let at = random.below(bytes.count + 1)
        switch random.below(8) {
        case 0 where !bytes.isEmpty:   // flip a bit
            let index = random.below(bytes.count)
            bytes[index] ^= UInt8(1 << random.below(8))
        case 1:                         // insert a token
            bytes.insert(contentsOf: tokens[random.below(tokens.count)], at: at)
        case 2 where !bytes.isEmpty:   // delete a range
            let end = min(bytes.count, at + 1 + random.below(16))
            if at < end { bytes.removeSubrange(at..<end) }
        case 3 where at < bytes.count:  // duplicate a range
            let end = min(bytes.count, at + 1 + random.below(64))
            bytes.insert(contentsOf: Array(bytes[at..<end]), at: at)
        case 4:                         // splice another seed's tail
            let other = others[random.below(others.count)]
            let from = random.below(other.count + 1)
            bytes = Array(bytes[..<at]) + Array(other[from...])
        case 6 where at < bytes.count:  // a number at its edges (state files count and number their records)
            guard let digit = bytes[at...].firstIndex(where: { (0x30...0x39).contains($0) }) else { continue }
            let end = bytes[digit...].firstIndex { !(0x30...0x39).contains($0) } ?? bytes.count
            bytes.replaceSubrange(digit..<end, with: edgeNumbers[random.below(edgeNumbers.count)])
        case 5:                         // a random byte
            bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
        default:                        // truncate
            bytes.removeSubrange(at...)
        }
    }
    return bytes
}

// MARK: files and the run

func write(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fail("cannot write \(path)") }
    var done = 0
    while done < bytes.count {
        let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
        guard count > 0 else { fail("cannot write \(path)") }
        done += count
    }
    close(fd)
}

func readAll(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot read \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = Glibc.read(fd, &chunk, chunk.count)
        if count <= 0 { return bytes }
        bytes += chunk[..<count]
    }
}

func fail(_ message: String, status: Int32 = 64) -> Never {
    let text = Array("lvs-node-fuzz: \(message)\n".utf8)
    _ = text.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    exit(status)
}

/// The process's peak resident memory (VmHWM), in KiB.
func peakMemoryKiB() -> Int {
    let status = String(decoding: readAll("/proc/self/status"), as: UTF8.self)
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
}

func timed(_ reader: Reader, _ bytes: [UInt8], scratch: String) {
    let start = ContinuousClock.now
    read(reader, bytes, scratch: scratch)
    let took = ContinuousClock.now - start
    if took > perInputLimit { fail("one \(reader.rawValue) input took \(took) (limit \(perInputLimit)); it is in \(scratch)/current", status: 3) }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch (arguments.first, arguments.count) {
case ("one", 4):
    guard let reader = Reader(rawValue: arguments[1]) else { fail("unknown reader \(arguments[1])") }
    timed(reader, readAll(arguments[2]), scratch: arguments[3])
    print("read 1 input, peak memory \(peakMemoryKiB()) KiB")
case ("mutate", 6):
    guard let reader = Reader(rawValue: arguments[1]), let seed = UInt64(arguments[2]), let count = Int(arguments[3]),
          let seconds = Int(arguments[4]) else { fail("usage: mutate READER SEED COUNT SECONDS SCRATCH") }
    let scratch = arguments[5]
    let corpus = seeds(reader, scratch: scratch)
    var random = Generator(state: seed)
    let deadline = ContinuousClock.now + .seconds(seconds)
    var done = 0
    while done < count && ContinuousClock.now < deadline {
        let input = mutate(corpus[random.below(corpus.count)], corpus, &random)
        write("\(scratch)/current", input)
        timed(reader, input, scratch: scratch)
        done += 1
    }
    print("read \(done) inputs, peak memory \(peakMemoryKiB()) KiB")
default:
    fail("usage: lvs-node-fuzz one READER FILE SCRATCH | mutate READER SEED COUNT SECONDS SCRATCH")
}
