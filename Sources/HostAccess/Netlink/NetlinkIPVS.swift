internal import CNetlink
import Glibc

/// `IPVSControl` over the kernel's generic-netlink family `IPVS` with libnl-genl-3: a dump of the
/// services and one of each service's real servers to read (kept until the table changes), changes
/// sent as a `NetlinkBatch`.
public final class NetlinkIPVS: IPVSControl {
    private let socket: OpaquePointer
    private let family: Int32

    /// Throws `MissingKernelFeature` when the kernel has no IPVS.
    public init() throws {
        guard let socket = nl_socket_alloc() else {
            throw HostError(operation: "allocating", subject: "a generic netlink socket", errno: ENOMEM)
        }
        let connected = genl_connect(socket)
        if connected < 0 {
            nl_socket_free(socket)
            throw RouteSocket.error(connected, "connecting", "the generic netlink socket")
        }
        let family = genl_ctrl_resolve(socket, "IPVS")
        if family < 0 {
            nl_socket_free(socket)
            throw MissingKernelFeature(feature: "IPVS (the ip_vs module; `modprobe ip_vs`)", needed: "the director's IPVS table")
        }
        do {
            try NetlinkBatch.prepare(socket, "IPVS")
        } catch {
            nl_socket_free(socket)
            throw error
        }
        self.socket = socket
        self.family = family
    }

    deinit { nl_socket_free(socket) }

    /// One receive buffer for every exchange: a table of a thousand services is a thousand dumps.
    private var receiveBuffer = [UInt8](repeating: 0, count: 1 << 18)
    private var serviceDump: [IPVSService]?
    private var destinationDump: [IPVSDestination]?

    public func services() throws -> [IPVSService] {
        if let serviceDump { return serviceDump }
        let sequence = nl_socket_use_seq(socket)
        let services = try exchange(try IPVSMessages.listServices(family: family, sequence: sequence), sequence,
                                    what: "listing", subject: "the IPVS services") { try IPVSMessages.service(from: $0) }
        serviceDump = services
        return services
    }

    public func destinations() throws -> [IPVSDestination] {
        if let destinationDump { return destinationDump }
        // One dump per service, one at a time: IPVS has no dump of every real server, and several
        // dump requests in one sendmsg do not help. The kernel (netlink_dump) sends a dump's first
        // message buffer and ends the dump only when the dump callback, called again from the
        // reader's next recvmsg, returns 0 — and IPVS's returns the buffer's length in its first
        // pass — so every request after the first in the same sendmsg would be refused EBUSY.
        var result: [IPVSDestination] = []
        for service in try services() {
            let sequence = nl_socket_use_seq(socket)
            result += try exchange(try IPVSMessages.listDestinations(of: service.key, family: family, sequence: sequence), sequence,
                                   what: "listing", subject: "the real servers of \(service.key.text)") {
                try IPVSMessages.destination(from: $0, of: service.key)
            }
        }
        destinationDump = result
        return result
    }

    public func timeouts() throws -> IPVSTimeouts {
        let sequence = nl_socket_use_seq(socket)
        let answers = try exchange(try IPVSMessages.getTimeouts(family: family, sequence: sequence), sequence,
                                   what: "reading", subject: "the IPVS timeouts") { IPVSMessages.timeouts(from: $0) }
        guard let first = answers.first else {
            throw HostError(operation: "reading", subject: "the IPVS timeouts", errno: ENODATA)
        }
        return first
    }

    public func canLoadScheduler(_ name: String) -> Bool { KernelFeatures.hasIPVS(scheduler: name) }

    public func refresh() {
        serviceDump = nil
        destinationDump = nil
    }

    public func apply(_ operations: [IPVSOperation]) throws {
        refresh()
        let failure = try NetlinkBatch.send(socket, count: operations.count, what: "IPVS") { index, sequence in
            try IPVSMessages.request(operations[index], family: family, sequence: sequence)
        }
        if let failure {
            let operation = operations[failure.index]
            throw BatchFailure(index: failure.index, error: HostError(operation: Self.verb(operation), subject: Self.subject(operation),
                                                                          errno: failure.errno))
        }
    }

    /// Sends one request and reads its answers until the dump ends (or the single reply arrives),
    /// turning each message into a value with `parse`.
    private func exchange<T>(_ request: [UInt8], _ sequence: UInt32, what: String, subject: String,
                             parse: ([UnsafeMutablePointer<nlattr>?]) throws -> T?) throws -> [T] {
        var bytes = request
        let sent = bytes.withUnsafeMutableBytes { nl_sendto(socket, $0.baseAddress, $0.count) }
        if sent < 0 { throw RouteSocket.error(sent, what, subject) }
        let isDump = (UInt16(bytes[6]) | UInt16(bytes[7]) << 8) & UInt16(NLM_F_DUMP) != 0
        var results: [T] = []
        let fd = nl_socket_get_fd(socket)
        while true {
            let count = recv(fd, &receiveBuffer, receiveBuffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: what, subject: subject, errno: errno)
            }
            let answer = try receiveBuffer.withUnsafeMutableBytes { raw in
                try IPVSMessages.replies(in: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), sequence: sequence, isDump: isDump,
                                         what: what, subject: subject, parse: parse)
            }
            results += answer.values
            if answer.finished { return results }
        }
    }

    static func verb(_ operation: IPVSOperation) -> String {
        switch operation {
        case .addService, .addDestination: return "adding"
        case .editService, .editDestination: return "changing"
        case .deleteService, .deleteDestination: return "removing"
        case .setTimeouts: return "setting"
        case .flush: return "removing"
        }
    }

    static func subject(_ operation: IPVSOperation) -> String {
        switch operation {
        case .addService(let service), .editService(let service): return "the IPVS service \(service.key.text) (scheduler \(service.scheduler))"
        case .deleteService(let key): return "the IPVS service \(key.text)"
        case .addDestination(let destination), .editDestination(let destination), .deleteDestination(let destination):
            return "the real server \(destination.endpoint) of \(destination.service.text)"
        case .setTimeouts(let timeouts): return "the IPVS timeouts (tcp \(timeouts.tcp), tcpfin \(timeouts.tcpFin), udp \(timeouts.udp))"
        case .flush: return "every IPVS service at once (flush)"
        }
    }
}
