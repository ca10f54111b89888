import Glibc
import HostAccess

/// An IPVS table that behaves like the kernel's: it refuses a service that exists (EEXIST), a change
/// to one that does not (ESRCH), a real server of a missing service (ESRCH), a duplicate or missing
/// real server (EEXIST / ENOENT), and a scheduler it cannot load (ENOENT); removing a service removes
/// its real servers; a batch goes on past a refused request. It can be told to fail a request.
///
/// Read like `NetlinkIPVS` reads the kernel: a dump is kept until `apply` or `refresh`, so a loop that
/// forgets to refresh sees stale counters here too. `session()` is another process's view of the same
/// table (each lvs-node run opens its own).
public final class FakeIPVS: IPVSControl {
    /// The kernel's side: shared by every session.
    final class State {
        var table: [IPVSServiceKey: IPVSService] = [:]
        var servers: [IPVSServiceKey: [String: IPVSDestination]] = [:]
        var timeoutValues = IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300)
        var schedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "sh", "mh"]
        var failing: (IPVSOperation) -> Int32? = { _ in nil }
        var requests: [IPVSOperation] = []
        var beforeDump: (() -> Void)?
    }

    private let state: State
    private var dump: (services: [IPVSService], destinations: [IPVSDestination]?)?

    public init() { state = State() }
    private init(sharing state: State) { self.state = state }

    /// Another process's view of the same table, with its own dump.
    public func session() -> FakeIPVS { FakeIPVS(sharing: state) }

    public var table: [IPVSServiceKey: IPVSService] { get { state.table } set { state.table = newValue } }
    public var servers: [IPVSServiceKey: [String: IPVSDestination]] { get { state.servers } set { state.servers = newValue } }
    public var timeoutValues: IPVSTimeouts { get { state.timeoutValues } set { state.timeoutValues = newValue } }
    public var schedulers: Set<String> { get { state.schedulers } set { state.schedulers = newValue } }
    /// Requests (as `NetlinkIPVS` names them) that fail with the errno.
    public var failing: (IPVSOperation) -> Int32? { get { state.failing } set { state.failing = newValue } }
    public var requests: [IPVSOperation] { state.requests }
    /// Called as the kernel is dumped: a test changes the counters here, as traffic would.
    public var beforeDump: (() -> Void)? { get { state.beforeDump } set { state.beforeDump = newValue } }

    public struct Snapshot: Equatable {
        public let services: [IPVSServiceKey: IPVSService]
        public let servers: [IPVSServiceKey: [String: IPVSDestination]]
        public let timeouts: IPVSTimeouts
    }

    public var snapshot: Snapshot { Snapshot(services: table, servers: servers.filter { !$0.value.isEmpty }, timeouts: timeoutValues) }

    public func services() throws -> [IPVSService] {
        if let dump { return dump.services }
        state.beforeDump?()
        let services = table.values.sorted { $0.key < $1.key }
        dump = (services, nil)
        return services
    }

    public func destinations() throws -> [IPVSDestination] {
        if let cached = dump?.destinations { return cached }
        let services = try services()
        state.beforeDump?()
        let destinations = services.flatMap { service in (servers[service.key] ?? [:]).values.sorted { $0.endpoint < $1.endpoint } }
        dump = (services, destinations)
        return destinations
    }

    public func refresh() { dump = nil }

    public func timeouts() throws -> IPVSTimeouts { timeoutValues }

    public func canLoadScheduler(_ name: String) -> Bool { schedulers.contains(name) }

    public func apply(_ operations: [IPVSOperation]) throws {
        dump = nil
        var first: BatchFailure?
        for (index, operation) in operations.enumerated() {
            state.requests.append(operation)
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
        case .setTimeouts, .flush:
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
        case .flush:
            table = [:]
            servers = [:]
        }
    }
}
