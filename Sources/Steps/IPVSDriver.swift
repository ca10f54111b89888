import Engine
import Glibc
import HostAccess

/// Opens the kernel's IPVS table on first use, so roles without one never need IPVS.
public final class IPVSHandle {
    private let open: () throws -> IPVSControl
    private var opened: IPVSControl?

    public init(_ open: @escaping () throws -> IPVSControl) { self.open = open }

    public func control() throws -> IPVSControl {
        if let opened { return opened }
        let control = try open()
        opened = control
        return control
    }
}

/// The IPVS table, subject by subject:
/// - `service tcp 192.0.2.10:80` / `service fwmark 1`: `SCHEDULER[ persistent SECONDS netmask MASK][ flags A,B]`
/// - `server tcp 192.0.2.10:80 198.51.100.11:80`: `FORWARDING weight N[ upper N][ lower N]`
/// - `timeouts`: `tcp N tcpfin N udp N`
/// Changes go to the kernel in one batch, services before their real servers and real servers
/// before their services' removal.
public final class IPVSDriver: Driver {
    public static let kindName = "ipvs"
    public var kind: String { Self.kindName }
    private let handle: IPVSHandle
    /// Said while waiting for a drain; the agent prints it.
    public var onDrain: (String) -> Void = { _ in }

    public init(_ handle: IPVSHandle) { self.handle = handle }

    // MARK: - subjects and states

    public static func subject(_ key: IPVSServiceKey) -> String { "service \(key.text)" }

    public static func subject(_ destination: IPVSDestination) -> String {
        subject(destination, serviceText: destination.service.text)
    }

    /// With the service's text worked out once for all its real servers.
    /// Written straight into the String's bytes: a table's worth of these is made on every run, by
    /// the plan and the read, and joining the pieces cost 2,400 instructions a real server.
    static func subject(_ destination: IPVSDestination, serviceText: String) -> String {
        var serviceText = serviceText, address = destination.address
        return serviceText.withUTF8 { service in
            address.withUTF8 { address in
                let isIPv6 = address.contains(UInt8(ascii: ":"))
                return String(unsafeUninitializedCapacity: 7 + service.count + address.count + 10) { out in
                    var count = 0
                    func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                        for byte in bytes { out[count] = byte; count += 1 }
                    }
                    func put(_ byte: UInt8) { out[count] = byte; count += 1 }
                    for byte in "server ".utf8 { put(byte) }
                    put(service)
                    put(UInt8(ascii: " "))
                    if isIPv6 { put(UInt8(ascii: "[")) }
                    put(address)
                    if isIPv6 { put(UInt8(ascii: "]")) }
                    put(UInt8(ascii: ":"))
                    var port = destination.port, digits = 1
                    while port >= 10 { port /= 10; digits += 1 }
                    port = destination.port
                    for place in stride(from: digits - 1, through: 0, by: -1) {
                        out[count + place] = 48 + UInt8(port % 10)
                        port /= 10
                    }
                    count += digits
                    return count
                }
            }
        }
    }

    public static let timeoutsSubject = "timeouts"

    public static func state(_ service: IPVSService) -> String {
        var text = service.scheduler
        if service.flags & IPVSService.persistent != 0 {
            text += " persistent \(service.timeout) netmask \(netmaskText(service))"
        }
        let names = flagNames(service.flags, scheduler: service.scheduler)
        if !names.isEmpty { text += " flags " + names.joined(separator: ",") }
        return text
    }

    public static func state(_ destination: IPVSDestination) -> String {
        var text = destination.forwarding.rawValue + " weight " + String(destination.weight)
        if destination.upperThreshold > 0 { text += " upper " + String(destination.upperThreshold) }
        if destination.lowerThreshold > 0 { text += " lower " + String(destination.lowerThreshold) }
        return text
    }

    /// Whether two real servers' states read the same (what `state(_:)` writes of them).
    static func sameState(_ a: IPVSDestination, _ b: IPVSDestination) -> Bool {
        a.forwarding == b.forwarding && a.weight == b.weight && a.upperThreshold == b.upperThreshold && a.lowerThreshold == b.lowerThreshold
    }

    /// Real servers' state texts (`dr weight 1`), one made for a run of servers with the same settings
    /// and shared: a table's servers mostly have them, and both the step and the read of the table
    /// otherwise wrote ten thousand of the same short text.
    struct StateTexts {
        private var last: (destination: IPVSDestination, text: String)?

        mutating func state(_ destination: IPVSDestination) -> String {
            if let last, IPVSDriver.sameState(last.destination, destination) { return last.text }
            let text = IPVSDriver.state(destination)
            last = (destination, text)
            return text
        }
    }

    public static func state(_ timeouts: IPVSTimeouts) -> String {
        "tcp \(timeouts.tcp) tcpfin \(timeouts.tcpFin) udp \(timeouts.udp)"
    }

    /// Service flags by name, as ipvsadm spells them, and the scheduler each belongs to ("" for any);
    /// a scheduler bit of another scheduler shows as flag-1..3.
    static let flagBits: [(name: String, bit: UInt32, scheduler: String)] = [
        ("ops", IPVSService.onePacket, ""),
        ("sh-fallback", IPVSService.schedulerFlag1, "sh"), ("sh-port", IPVSService.schedulerFlag2, "sh"),
        ("mh-fallback", IPVSService.schedulerFlag1, "mh"), ("mh-port", IPVSService.schedulerFlag2, "mh"),
        ("flag-1", IPVSService.schedulerFlag1, "*"), ("flag-2", IPVSService.schedulerFlag2, "*"), ("flag-3", IPVSService.schedulerFlag3, "*"),
    ]

    static func flagNames(_ flags: UInt32, scheduler: String) -> [String] {
        var left = flags & ~IPVSService.persistent
        var names: [String] = []
        for entry in flagBits where left & entry.bit != 0 && [scheduler, "", "*"].contains(entry.scheduler) {
            names.append(entry.name)
            left &= ~entry.bit
        }
        return names
    }

    public static func flagBit(_ name: String) -> UInt32? { flagBits.first { $0.name == name }?.bit }

    static func netmaskText(_ service: IPVSService) -> String {
        if service.key.isIPv6 { return "\(service.netmask)" }
        let mask = service.netmask
        return "\(mask >> 24).\(mask >> 16 & 0xff).\(mask >> 8 & 0xff).\(mask & 0xff)"
    }

    // MARK: - reading

    public func read(_ subjects: [String]) throws -> [String?] {
        let control = try handle.control()
        var states: [String: String] = [:]
        states.reserveCapacity(subjects.count)
        if subjects.contains(where: { $0.hasPrefix("service ") || $0.hasPrefix("server ") }) {
            var serviceTexts: [IPVSServiceKey: String] = [:]
            for service in try control.services() {
                serviceTexts[service.key] = service.key.text
                states[Self.subject(service.key)] = Self.state(service)
            }
            // The dumps come service by service, and most real servers have the state of the one
            // before: both texts are reused while they last (a read of the table makes one of each
            // for every real server otherwise).
            var last: (service: IPVSServiceKey, text: String)?
            var stateTexts = StateTexts()
            for destination in try control.destinations() {
                let serviceText: String
                if let last, last.service == destination.service {
                    serviceText = last.text
                } else {
                    serviceText = serviceTexts[destination.service] ?? destination.service.text
                    last = (destination.service, serviceText)
                }
                states[Self.subject(destination, serviceText: serviceText)] = stateTexts.state(destination)
            }
        }
        if subjects.contains(Self.timeoutsSubject) {
            states[Self.timeoutsSubject] = Self.state(try control.timeouts())
        }
        return subjects.map { states[$0] }
    }

    // MARK: - writing

    /// Services added or changed, real servers removed, real servers added or changed, services removed:
    /// an order in which every request finds what it needs, recorded so undo can reverse it.
    public func ordered(_ changes: [Change]) -> [Change] {
        var groups: [[Change]] = [[], [], [], []]
        for change in changes {
            let isService = Self.isService(change.subject)
            switch (isService, change.after == nil) {
            case (true, false): groups[0].append(change)
            case (false, true): groups[1].append(change)
            case (false, false): groups[2].append(change)
            case (true, true): groups[3].append(change)
            }
        }
        return groups.flatMap { $0 }
    }

    public func write(_ changes: [Change]) throws {
        let control = try handle.control()
        let changes = ordered(changes)
        // Removing a service removes its real servers: no request of their own (a rollback of a
        // large table is then a request per service, not per real server), and their states are
        // not even read back into requests (that was a fifth of a large rollback).
        var removedServices = Set<Substring>()
        for change in changes where change.after == nil && Self.isService(change.subject) {
            removedServices.insert(change.subject.dropFirst(8))
        }
        var keys: [ArraySlice<Substring>: IPVSServiceKey] = [:]
        var removed = Set<IPVSServiceKey>()
        var requests: [(Change, IPVSOperation)] = []
        requests.reserveCapacity(changes.count)
        for change in changes {
            if change.after == nil, !removedServices.isEmpty, let parts = Self.serverParts(change.subject),
               removedServices.contains(parts.service) {
                continue
            }
            let operation = try Self.operation(change, keys: &keys)
            if case .deleteService(let key) = operation { removed.insert(key) }
            requests.append((change, operation))
        }
        if try flushes(requests, removed, control) {
            // One request for the lot; a failure names the first change (the journal holds them all,
            // so recovery puts back every service and real server the flush took).
            try send([(requests[0].0, .flush)], control)
            return
        }
        try send(requests, control)
    }

    /// Whether the batch is the removal of every service the kernel holds, and nothing else, so one
    /// IPVS_CMD_FLUSH does it (a rollback to a generation without services). The kernel is read
    /// again first: a service another tool added since the plan is not lvs-node's, and the
    /// per-service requests would leave it.
    private func flushes(_ requests: [(Change, IPVSOperation)], _ removed: Set<IPVSServiceKey>, _ control: IPVSControl) throws -> Bool {
        guard removed.count > 1, removed.count == requests.count else { return false }
        control.refresh()
        let live = try control.services()
        return live.count == removed.count && live.allSatisfy { removed.contains($0.key) }
    }

    private func send(_ requests: [(Change, IPVSOperation)], _ control: IPVSControl) throws {
        guard !requests.isEmpty else { return }
        do {
            try control.apply(requests.map(\.1))
        } catch let failure as BatchFailure {
            throw ChangeFailure(change: requests[failure.index].0, underlying: failure.error)
        }
    }

    /// Whether a subject is a service's (`service …`), by its first bytes: every change of a table's
    /// rollback is asked, twice, and String.hasPrefix costs several times more.
    static func isService(_ subject: String) -> Bool { starts(subject, with: "service ") }

    static func starts(_ text: String, with prefix: StaticString) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.count >= prefix.utf8CodeUnitCount && memcmp(bytes.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
        } ?? text.hasPrefix(prefix.description)
    }

    /// Waits while the draining real servers (`IPVSDrainStep.draining`) all still have connections and
    /// time left: returns once one of them has none left or is gone, or its deadline has passed, so
    /// the next run lets it go. Reads the kernel afresh every tick (the counters move).
    public func awaitDrain(_ draining: [String: DrainDeadline], now: () -> Int = DrainDeadline.now) throws {
        guard let first = draining.values.min() else { return }
        let control = try handle.control()
        let servers = draining.keys.sorted().map { subject -> String in
            let endpoint = subject.split(separator: " ").last.map(String.init) ?? subject
            return "\(endpoint) of \(Self.serviceText(ofServer: subject))"
        }
        onDrain("draining \(servers.joined(separator: ", ")) (weight 0) until their connections end, at the latest until \(first.text)")
        while true {
            usleep(200_000)
            if draining.values.contains(where: { $0.epoch <= now() }) { return }
            control.refresh()
            let live = Dictionary(try control.destinations().map { (Self.subject($0), $0) }, uniquingKeysWith: { first, _ in first })
            for subject in draining.keys {
                guard let destination = live[subject] else { return }
                if destination.activeConnections + destination.inactiveConnections == 0 { return }
            }
        }
    }

    /// The service's text and the endpoint of `server tcp 192.0.2.10:80 198.51.100.11:80`, as slices
    /// of it (found on the bytes: a whole table's subjects go through here); nil for any other subject.
    static func serverParts(_ subject: String) -> (service: Substring, endpoint: Substring)? {
        let utf8 = subject.utf8
        let space = utf8.withContiguousStorageIfAvailable { bytes -> Int? in
            guard bytes.count > 7, bytes[0] == UInt8(ascii: "s"), bytes[1] == UInt8(ascii: "e"), bytes[2] == UInt8(ascii: "r"),
                  bytes[3] == UInt8(ascii: "v"), bytes[4] == UInt8(ascii: "e"), bytes[5] == UInt8(ascii: "r"), bytes[6] == 32 else { return nil }
            var index = bytes.count - 1
            while index > 7 && bytes[index] != 32 { index -= 1 }
            return index > 7 ? index : nil
        }
        guard let found = space else { return slowServerParts(subject) }
        guard let space = found else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: 7), end = utf8.index(utf8.startIndex, offsetBy: space)
        return (subject[start..<end], subject[utf8.index(after: end)...])
    }

    /// For a String without contiguous UTF-8 (bridged), which lvs-node never makes itself.
    private static func slowServerParts(_ subject: String) -> (service: Substring, endpoint: Substring)? {
        let bytes = subject.utf8
        guard subject.hasPrefix("server "), let space = bytes.lastIndex(of: UInt8(ascii: " ")) else { return nil }
        let start = bytes.index(bytes.startIndex, offsetBy: 7)
        guard start < space else { return nil }
        return (subject[start..<space], subject[bytes.index(after: space)...])
    }

    /// `tcp 192.0.2.10:80` of `server tcp 192.0.2.10:80 198.51.100.11:80`.
    public static func serviceText(ofServer subject: String) -> String {
        let words = subject.split(separator: " ")
        guard words.count >= 3 else { return subject }
        return words[1..<(words.count - 1)].joined(separator: " ")
    }

    /// The kernel request that makes one change.
    static func operation(_ change: Change) throws -> IPVSOperation {
        var keys: [ArraySlice<Substring>: IPVSServiceKey] = [:]
        return try operation(change, keys: &keys)
    }

    /// `keys`: the service keys already read in this batch (a service's real servers share one).
    static func operation(_ change: Change, keys: inout [ArraySlice<Substring>: IPVSServiceKey]) throws -> IPVSOperation {
        let words = change.subject.split(separator: " ")
        guard let first = words.first else { throw IPVSStateError(text: change.subject) }
        switch first {
        case "timeouts":
            guard let after = change.after else {
                // No "absent" timeouts: a release goes back to the recorded values.
                throw IPVSStateError(text: change.subject)
            }
            return .setTimeouts(try parseTimeouts(after))
        case "service":
            let key = try parseKey(words.dropFirst())
            guard let after = change.after else { return .deleteService(key) }
            let service = try parseService(key, after)
            return change.before == nil ? .addService(service) : .editService(service)
        case "server":
            guard words.count >= 4 else { throw IPVSStateError(text: change.subject) }
            let keyWords = words[1..<(words.count - 1)]
            let key: IPVSServiceKey
            if let known = keys[keyWords] {
                key = known
            } else {
                key = try parseKey(keyWords)
                keys[keyWords] = key
            }
            let (address, port) = try parseEndpoint(words[words.count - 1])
            guard let after = change.after else {
                return .deleteDestination(IPVSDestination(service: key, address: address, port: port, forwarding: .dr, weight: 0))
            }
            let destination = try parseDestination(key, address, port, after)
            return change.before == nil ? .addDestination(destination) : .editDestination(destination)
        default:
            throw IPVSStateError(text: change.subject)
        }
    }

    static func parseKey(_ words: ArraySlice<Substring>) throws -> IPVSServiceKey {
        let words = Array(words)
        if words.first == "fwmark", words.count >= 2, let mark = UInt32(words[1]) {
            return .firewallMark(mark, ipv6: words.count > 2 && words[2] == "ipv6")
        }
        guard words.count == 2, let proto = IPVSProtocol(rawValue: String(words[0])) else { throw IPVSStateError(text: words.joined(separator: " ")) }
        let (address, port) = try parseEndpoint(words[1])
        return .address(proto, address: address, port: port)
    }

    static func parseEndpoint(_ text: Substring) throws -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw IPVSStateError(text: String(text))
        }
        var address = text[..<colon]
        if address.hasPrefix("[") && address.hasSuffix("]") { address = address.dropFirst().dropLast() }
        return (String(address), port)
    }

    static func parseService(_ key: IPVSServiceKey, _ text: String) throws -> IPVSService {
        let words = text.split(separator: " ")
        guard let scheduler = words.first.map(String.init) else { throw IPVSStateError(text: text) }
        var service = IPVSService(key: key, scheduler: scheduler)
        var index = 1
        while index + 1 < words.count {
            let value = words[index + 1]
            switch words[index] {
            case "persistent":
                service.flags |= IPVSService.persistent
                service.timeout = UInt32(value) ?? 0
            case "netmask":
                if key.isIPv6 {
                    service.netmask = UInt32(value) ?? 128
                } else {
                    var address = in_addr()
                    guard inet_pton(AF_INET, String(value), &address) == 1 else { throw IPVSStateError(text: text) }
                    service.netmask = UInt32(bigEndian: address.s_addr)
                }
            case "flags":
                for name in value.split(separator: ",") {
                    guard let bit = flagBit(String(name)) else { throw IPVSStateError(text: text) }
                    service.flags |= bit
                }
            default:
                throw IPVSStateError(text: text)
            }
            index += 2
        }
        return service
    }

    static func parseDestination(_ key: IPVSServiceKey, _ address: String, _ port: UInt16, _ text: String) throws -> IPVSDestination {
        let words = text.split(separator: " ")
        guard let first = words.first, let forwarding = IPVSForwarding(rawValue: String(first)) else { throw IPVSStateError(text: text) }
        var destination = IPVSDestination(service: key, address: address, port: port, forwarding: forwarding, weight: 1)
        var index = 1
        while index + 1 < words.count {
            guard let value = UInt32(words[index + 1]) else { throw IPVSStateError(text: text) }
            switch words[index] {
            case "weight": destination.weight = Int32(bitPattern: value)
            case "upper": destination.upperThreshold = value
            case "lower": destination.lowerThreshold = value
            default: throw IPVSStateError(text: text)
            }
            index += 2
        }
        return destination
    }

    static func parseTimeouts(_ text: String) throws -> IPVSTimeouts {
        let words = text.split(separator: " ")
        guard words.count == 6, let tcp = UInt32(words[1]), let fin = UInt32(words[3]), let udp = UInt32(words[5]) else {
            throw IPVSStateError(text: text)
        }
        return IPVSTimeouts(tcp: tcp, tcpFin: fin, udp: udp)
    }

    // MARK: - plan lines

    /// Written straight into one String's bytes: a rollback of a large table describes every service
    /// and real server, and joining the pieces with `+` cost 6,500 instructions a line.
    public func describe(_ change: Change) -> String {
        var subject = change.subject, before = change.before ?? "", after = change.after ?? ""
        let hasBefore = change.before != nil, hasAfter = change.after != nil
        return subject.withUTF8 { subject in
            before.withUTF8 { before in
                after.withUTF8 { after in
                    Self.describe(subject: subject, before: hasBefore ? before : nil, after: hasAfter ? after : nil)
                }
            }
        }
    }

    private static func describe(subject: UnsafeBufferPointer<UInt8>, before: UnsafeBufferPointer<UInt8>?,
                                 after: UnsafeBufferPointer<UInt8>?) -> String {
        String(unsafeUninitializedCapacity: subject.count + (before?.count ?? 0) + (after?.count ?? 0) + 32) { out in
            var count = 0
            func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                (out.baseAddress! + count).initialize(from: base, count: bytes.count)
                count += bytes.count
            }
            func put(_ text: StaticString) { put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)) }
            func starts(_ prefix: StaticString) -> Bool {
                subject.count >= prefix.utf8CodeUnitCount && memcmp(subject.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
            }
            // `server SERVICE… ENDPOINT`: the endpoint is after the last space.
            var space = subject.count - 1
            while space > 7 && subject[space] != 32 { space -= 1 }
            if starts("server ") && space > 7 {
                put("IPVS real server ")
                put(UnsafeBufferPointer(rebasing: subject[(space + 1)...]))
                put(" of ")
                put(UnsafeBufferPointer(rebasing: subject[7..<space]))
            } else if starts("service ") {
                put("IPVS service ")
                put(UnsafeBufferPointer(rebasing: subject[8...]))
            } else {
                put("IPVS timeouts")
            }
            switch (before, after) {
            case (nil, let after?): put(" ("); put(after); put(")")
            case (let before?, nil): put(" ("); put(before); put(")")
            case (let before?, let after?): put(": "); put(before); put(" → "); put(after)
            default: break
            }
            return count
        }
    }
}

/// A state text the IPVS driver cannot read: the state directory was edited or damaged.
struct IPVSStateError: Error, CustomStringConvertible {
    let text: String
    var description: String { "'\(text)' is not an IPVS service, real server or timeouts as lvs-node writes them" }
}
