internal import CNetlink
import Glibc

/// `IPVSControl` over the kernel's generic-netlink family `IPVS` with libnl-genl-3: a dump of the
/// services and one of each service's real servers to read (kept until the table changes), changes
/// sent as a `NetlinkBatch`.
public final class NetlinkIPVS: IPVSControl {
    private var socket: OpaquePointer
    private let family: Int32

    /// Throws `MissingKernelFeature` when the kernel has no IPVS.
    public init() throws {
        (socket, family) = try Self.open()
    }

    /// A connected generic-netlink socket, sized for batches, and the IPVS family's id.
    private static func open() throws -> (OpaquePointer, Int32) {
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
        // Room for many real-server dumps at once (see `destinations`); without CAP_NET_ADMIN the
        // kernel refuses the forced size and the buffer stays as `prepare` left it.
        var size: Int32 = 8 << 20
        setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        return (socket, family)
    }

    /// A fresh socket in place of one that may still hold a dump in progress.
    private func reopen() throws {
        let (fresh, _) = try Self.open()
        nl_socket_free(socket)
        socket = fresh
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
        // IPVS dumps real servers one service at a time, so the requests go many per sendmsg: the
        // kernel starts each dump as it reads the request, and one that ends in its first pass (a
        // service's real servers fit one message buffer) frees the socket for the next. One that
        // does not leaves the rest of its window EBUSY; those, and a window the receive buffer
        // could not hold (ENOBUFS), are asked again one at a time.
        let services = try services()
        var found = [[IPVSDestination]?](repeating: nil, count: services.count)
        var start = 0
        while start < services.count {
            let end = min(start + dumpWindow, services.count)
            if try !dumpTogether(services, start..<end, into: &found) { try reopen() }
            start = end
        }
        var result: [IPVSDestination] = []
        for (index, service) in services.enumerated() {
            result += try found[index] ?? dumpAlone(service.key)
        }
        destinationDump = result
        return result
    }

    /// Dumps per sendmsg: what the receive buffer holds of their first messages (each a buffer of up
    /// to 32 KiB in the kernel's accounting; 64 KiB assumed), at least one.
    private lazy var dumpWindow: Int = {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUF, &size, &length)
        return max(1, min(256, Int(size) / (64 << 10)))
    }()

    /// Sends the real-server dumps of `range` in one sendmsg and reads their answers; fills `found`
    /// for each dump that completed. Returns false when the kernel could not queue them (ENOBUFS):
    /// the socket may then still hold a dump in progress and must be replaced.
    private func dumpTogether(_ services: [IPVSService], _ range: Range<Int>, into found: inout [[IPVSDestination]?]) throws -> Bool {
        var buffer: [UInt8] = []
        var indexOf: [UInt32: Int] = [:]
        for index in range {
            let sequence = nl_socket_use_seq(socket)
            let request = try IPVSMessages.listDestinations(of: services[index].key, family: family, sequence: sequence)
            buffer += request
            buffer.append(contentsOf: repeatElement(0, count: (4 - request.count % 4) % 4))
            indexOf[sequence] = index
        }
        let sent = buffer.withUnsafeMutableBytes { nl_sendto(socket, $0.baseAddress, $0.count) }
        if sent < 0 { throw RouteSocket.error(sent, "listing", "the real servers of \(range.count) IPVS services") }
        var values = [[IPVSDestination]](repeating: [], count: range.count)
        var pending = range.count
        var overrun = false
        let fd = nl_socket_get_fd(socket)
        while pending > 0 {
            let count = recv(fd, &receiveBuffer, receiveBuffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == ENOBUFS { return false }
                throw HostError(operation: "listing", subject: "the real servers of \(range.count) IPVS services", errno: errno)
            }
            try receiveBuffer.withUnsafeMutableBytes { raw in
                try IPVSMessages.forEachReply(in: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), what: "listing",
                                              subject: "the real servers of IPVS services") { sequence, reply in
                    guard let index = indexOf[sequence] else { return }
                    let key = services[index].key
                    switch reply {
                    case .attributes(let attributes):
                        if let destination = try IPVSMessages.destination(from: attributes, of: key) {
                            values[index - range.lowerBound].append(destination)
                        }
                    case .done:
                        found[index] = values[index - range.lowerBound]
                        indexOf[sequence] = nil
                        pending -= 1
                    case .error(EBUSY):
                        indexOf[sequence] = nil
                        pending -= 1
                    case .error(ENOBUFS):
                        overrun = true
                        indexOf[sequence] = nil
                        pending -= 1
                    case .error(let code):
                        throw HostError(operation: "listing", subject: "the real servers of \(key.text)", errno: code)
                    }
                }
            }
        }
        return !overrun
    }

    private func dumpAlone(_ key: IPVSServiceKey) throws -> [IPVSDestination] {
        let sequence = nl_socket_use_seq(socket)
        return try exchange(try IPVSMessages.listDestinations(of: key, family: family, sequence: sequence), sequence,
                            what: "listing", subject: "the real servers of \(key.text)") {
            try IPVSMessages.destination(from: $0, of: key)
        }
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
