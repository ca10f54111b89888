import Engine
import Glibc
import HostAccess
import NodeModel

/// Role step `kind: ipvs-drain`: the real servers leaving the spec with `drain: N`, as a state the
/// generation keeps. A leaving real server goes to weight 0 in a step named `drain until DEADLINE`
/// (UTC, kept from run to run); every run looks at it afresh and lets it go (the planner removes
/// it) once its active and inactive connections are gone or the deadline has passed. A service
/// leaving the spec stays while one of its real servers drains.
///
/// Because the draining state is a committed generation, a run killed while it waits leaves a
/// consistent host (the server at weight 0), and the next run resumes the drain with the same deadline.
public enum IPVSDrainStep {
    static let kind = "ipvs-drain"

    /// `previous`: the steps of the generation in force; `baseline`: its subjects' states before
    /// lvs-node (only what lvs-node added is removed, so only that drains); `earlier`: this run's steps
    /// so far (the spec's table). One step per deadline, in deadline order.
    static func desired(_ step: Role.Step, spec: NodeSpec, previous: [DesiredStep], baseline: () -> [String: String?],
                        earlier: [DesiredStep], host: HostView, now: Int) throws -> [DesiredStep] {
        guard let seconds = spec.ipvs?.drainSeconds, seconds > 0 else { return [] }
        let wanted = Set(earlier.filter { $0.kind == IPVSDriver.kindName }.flatMap { $0.desired.map(\.subject) })
        var deadlines: [String: DrainDeadline] = [:]
        for old in previous where old.kind == IPVSDriver.kindName {
            guard let deadline = DrainDeadline(stepName: old.name) else { continue }
            for desired in old.desired { deadlines[desired.subject] = deadline }
        }
        let gone = previous.filter { $0.kind == IPVSDriver.kindName }.flatMap(\.desired)
            .filter { $0.state != nil && !wanted.contains($0.subject) }
        guard !gone.isEmpty else { return [] }
        let priorStates = baseline()
        func madeByLVSNode(_ subject: String) -> Bool {
            priorStates[Planner.key(IPVSDriver.kindName, subject)].map { $0 == nil } ?? false
        }
        let leaving = gone.filter { madeByLVSNode($0.subject) }
        guard !leaving.isEmpty else { return [] }

        let control = try host.ipvs.control()
        control.refresh()   // the counters as they are now, not as an earlier read of this run saw them
        let live = Dictionary(try control.destinations().map { (IPVSDriver.subject($0), $0) }, uniquingKeysWith: { first, _ in first })
        var groups: [DrainDeadline: [Desired]] = [:]
        var serviceDeadline: [String: DrainDeadline] = [:]
        for server in leaving where server.subject.hasPrefix("server ") {
            guard let destination = live[server.subject] else { continue }   // already gone
            let deadline = deadlines[server.subject] ?? DrainDeadline(epoch: now + seconds)
            guard deadline.epoch > now, destination.activeConnections + destination.inactiveConnections > 0 else { continue }
            var quiesced = destination
            quiesced.weight = 0
            groups[deadline, default: []].append(Desired(subject: server.subject, state: IPVSDriver.state(quiesced)))
            let service = "service " + IPVSDriver.serviceText(ofServer: server.subject)
            serviceDeadline[service] = max(serviceDeadline[service] ?? deadline, deadline)
        }
        // A leaving service stays, as it is, while one of its real servers drains (with the last of them).
        for service in leaving where service.subject.hasPrefix("service ") {
            guard let deadline = serviceDeadline[service.subject] else { continue }
            groups[deadline, default: []].insert(service, at: 0)
        }
        return groups.sorted { $0.key < $1.key }.map { deadline, desired in
            DesiredStep(name: deadline.stepName, kind: IPVSDriver.kindName, desired: desired)
        }
    }

    /// The draining real servers of a generation's steps and their deadlines, by subject.
    public static func draining(_ steps: [DesiredStep]) -> [String: DrainDeadline] {
        var result: [String: DrainDeadline] = [:]
        for step in steps where step.kind == IPVSDriver.kindName {
            guard let deadline = DrainDeadline(stepName: step.name) else { continue }
            for desired in step.desired where desired.subject.hasPrefix("server ") { result[desired.subject] = deadline }
        }
        return result
    }
}

/// When a drain ends at the latest: a wall-clock time (it must outlive the process and a reboot),
/// written in the step's name as UTC ISO 8601, whole seconds.
public struct DrainDeadline: Hashable, Comparable, Sendable {
    public let epoch: Int

    public init(epoch: Int) { self.epoch = epoch }

    static let prefix = "drain until "

    /// From a step named `drain until 2026-11-24T11:02:03Z`; nil for any other step.
    init?(stepName: String) {
        guard stepName.hasPrefix(Self.prefix) else { return nil }
        // YYYY-MM-DDTHH:MM:SSZ, as `text` writes it.
        let text = Array(stepName.utf8.dropFirst(Self.prefix.count))
        let separators: [Int: UInt8] = [4: UInt8(ascii: "-"), 7: UInt8(ascii: "-"), 10: UInt8(ascii: "T"), 13: UInt8(ascii: ":"),
                                        16: UInt8(ascii: ":"), 19: UInt8(ascii: "Z")]
        guard text.count == 20, separators.allSatisfy({ text[$0.key] == $0.value }) else { return nil }
        func number(_ from: Int, _ count: Int) -> Int32? {
            let digits = text[from..<(from + count)]
            guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            return digits.reduce(Int32(0)) { $0 * 10 + Int32($1 - UInt8(ascii: "0")) }
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        epoch = Int(timegm(&parts))
    }

    public var text: String {
        var seconds = time_t(epoch)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var stepName: String { Self.prefix + text }

    public static func now() -> Int { Int(time(nil)) }

    public static func < (a: DrainDeadline, b: DrainDeadline) -> Bool { a.epoch < b.epoch }
}
