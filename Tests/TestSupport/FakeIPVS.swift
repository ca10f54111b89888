import Glibc
import HostAccess

/// An IPVS table that behaves like the kernel's: it refuses a service that exists (EEXIST), a change
/// to one that does not (ESRCH), a real server of a missing service (ESRCH), a duplicate or missing
/// real server (EEXIST / ENOENT), and a scheduler it cannot load (ENOENT); removing a service removes
/// its real servers; a batch goes on past a refused request. It can be told to fail a request.
public final class FakeIPVS: IPVSControl {
    public var table: [IPVSServiceKey: IPVSService] = [:]
    public var servers: [IPVSServiceKey: [String: IPVSDestination]] = [:]
    public var timeoutValues = IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300)
    public var schedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "sh", "mh"]
    /// Requests (as `NetlinkIPVS` names them) that fail with the errno.
    public var failing: (IPVSOperation) -> Int32? = { _ in nil }
    public private(set) var requests: [IPVSOperation] = []

    public init() {}

    public struct Snapshot: Equatable {
        public let services: [IPVSServiceKey: IPVSService]
        public let servers: [IPVSServiceKey: [String: IPVSDestination]]
        public let timeouts: IPVSTimeouts
    }

    public var snapshot: Snapshot { Snapshot(services: table, servers: servers.filter { !$0.value.isEmpty }, timeouts: timeoutValues) }

    public func services() throws -> [IPVSService] { table.values.sorted { $0.key < $1.key } }

    public func destinations() throws -> [IPVSDestination] {
        servers.keys.sorted().flatMap { key in servers[key]!.values.sorted { $0.endpoint < $1.endpoint } }
    }

    public func timeouts() throws -> IPVSTimeouts { timeoutValues }

    public func canLoadScheduler(_ name: String) -> Bool { schedulers.contains(name) }

    public func apply(_ operations: [IPVSOperation]) throws {
        var first: BatchFailure?
        for (index, operation) in operations.enumerated() {
            requests.append(operation)
            if let code = failing(operation) ?? refusal(operation) {
                if first == nil { first = BatchFailure(index: index, error: HostError(operation: "applying", subject: "\(operation)", errno: code)) }
                continue
            }
            perform(operation)
        }
        if let first { throw first }
    }

    private func refusal(_ operation: IPVSOperation) -> Int32? {
        switch operation {
        case .addService(let service):
            if table[service.key] != nil { return EEXIST }
            return schedulers.contains(service.scheduler) ? nil : ENOENT
        case .editService(let service):
            if table[service.key] == nil { return ESRCH }
            return schedulers.contains(service.scheduler) ? nil : ENOENT
        case .deleteService(let key):
            return table[key] == nil ? ESRCH : nil
        case .addDestination(let destination):
            guard table[destination.service] != nil else { return ESRCH }
            return servers[destination.service]?[destination.endpoint] == nil ? nil : EEXIST
        case .editDestination(let destination), .deleteDestination(let destination):
            guard table[destination.service] != nil else { return ESRCH }
            return servers[destination.service]?[destination.endpoint] == nil ? ENOENT : nil
        case .setTimeouts:
            return nil
        }
    }

    private func perform(_ operation: IPVSOperation) {
        switch operation {
        case .addService(let service), .editService(let service):
            table[service.key] = service
        case .deleteService(let key):
            table[key] = nil
            servers[key] = nil
        case .addDestination(let destination), .editDestination(let destination):
            var stored = destination
            if let live = servers[destination.service]?[destination.endpoint] {
                stored.activeConnections = live.activeConnections
                stored.inactiveConnections = live.inactiveConnections
            }
            servers[destination.service, default: [:]][destination.endpoint] = stored
        case .deleteDestination(let destination):
            servers[destination.service]?[destination.endpoint] = nil
        case .setTimeouts(let timeouts):
            timeoutValues = IPVSTimeouts(tcp: timeouts.tcp == 0 ? timeoutValues.tcp : timeouts.tcp,
                                         tcpFin: timeouts.tcpFin == 0 ? timeoutValues.tcpFin : timeouts.tcpFin,
                                         udp: timeouts.udp == 0 ? timeoutValues.udp : timeouts.udp)
        }
    }
}
