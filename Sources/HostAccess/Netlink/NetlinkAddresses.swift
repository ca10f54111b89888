internal import CNetlink
import Glibc

/// `AddressControl` over rtnetlink with libnl-route-3: one dump to read; changes sent many requests
/// to a `sendmsg`, with the kernel's acknowledgements read back per window, so a thousand addresses
/// cost a few dozen system calls instead of thousands.
public final class NetlinkAddresses: AddressControl {
    private let socket: RouteSocket
    /// Requests per sendmsg; their acknowledgements must fit the receive buffer.
    private static let window = 256
    private static let receiveBuffer: Int32 = 1 << 20

    public init() throws {
        socket = try RouteSocket()
        let rc = nl_socket_set_buffer_size(socket.handle, Self.receiveBuffer, Self.receiveBuffer)
        if rc < 0 { throw RouteSocket.error(rc, "sizing", "the rtnetlink socket buffers") }
        // Batches are acknowledged by our own reader, which matches sequence numbers itself; libnl's
        // check would otherwise expect the next dump to answer a sequence number a batch already used.
        nl_socket_disable_seq_check(socket.handle)
        // Never wait forever for an acknowledgement that will not come.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(nl_socket_get_fd(socket.handle), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    public func interfaceNames() throws -> Set<String> {
        Set(try LinkTable.names(socket).values)
    }

    /// The last dump, kept until this object changes an address: one run plans from one dump.
    private var dump: [InterfaceAddress]?

    public func addresses() throws -> [InterfaceAddress] {
        if let dump { return dump }
        let result = try dumpAddresses()
        dump = result
        return result
    }

    private func dumpAddresses() throws -> [InterfaceAddress] {
        var raw: OpaquePointer?
        let rc = rtnl_addr_alloc_cache(socket.handle, &raw)
        guard rc >= 0, let raw else { throw RouteSocket.error(rc, "listing", "interface addresses") }
        let names = try indexToName()
        return NetlinkCache(raw).withObjects { $0.compactMap { addr in
            guard let local = rtnl_addr_get_local(addr), let text = Self.text(of: local) else { return nil }
            let index = rtnl_addr_get_ifindex(addr)
            return InterfaceAddress(
                interface: names[index] ?? "if\(index)",
                address: text,
                prefixLength: Int(rtnl_addr_get_prefixlen(addr)),
                label: rtnl_addr_get_label(addr).map { String(cString: $0) })
        } }
    }

    public func apply(_ operations: [AddressOperation]) throws {
        dump = nil
        var start = 0
        while start < operations.count {
            let end = min(start + Self.window, operations.count)
            try send(operations, start..<end)
            start = end
        }
    }

    /// One window: every request in one buffer and one sendmsg, then one acknowledgement per request.
    private func send(_ operations: [AddressOperation], _ range: Range<Int>) throws {
        var buffer: [UInt8] = []
        var sequenceToIndex: [UInt32: Int] = [:]
        for index in range {
            let (message, sequence) = try makeMessage(operations[index])
            defer { nlmsg_free(message) }
            let header = nlmsg_hdr(message)!
            let length = Int(header.pointee.nlmsg_len)
            buffer.append(contentsOf: UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: length))
            buffer.append(contentsOf: repeatElement(0, count: (4 - length % 4) % 4))
            sequenceToIndex[sequence] = index
        }
        let sent = buffer.withUnsafeMutableBytes { nl_sendto(socket.handle, $0.baseAddress, $0.count) }
        if sent < 0 { throw RouteSocket.error(sent, "sending", "\(range.count) address requests") }

        var firstFailure: AddressBatchFailure?
        var pending = range.count
        var receive = [UInt8](repeating: 0, count: 65536)
        let fd = nl_socket_get_fd(socket.handle)
        while pending > 0 {
            let count = recv(fd, &receive, receive.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: "waiting for the kernel's answer to", subject: "\(pending) address requests", errno: errno)
            }
            for (sequence, code) in Self.acknowledgements(receive[0..<count]) {
                guard let index = sequenceToIndex.removeValue(forKey: sequence) else { continue }
                pending -= 1
                if code != 0 && firstFailure == nil {
                    firstFailure = AddressBatchFailure(index: index, error: Self.error(operations[index], errno: -code))
                }
            }
        }
        if let firstFailure { throw firstFailure }
    }

    /// (sequence, error) of each NLMSG_ERROR in a datagram; error 0 is a plain acknowledgement.
    private static func acknowledgements(_ bytes: ArraySlice<UInt8>) -> [(UInt32, Int32)] {
        var result: [(UInt32, Int32)] = []
        var offset = bytes.startIndex
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        while offset + 16 <= bytes.endIndex {
            let length = Int(u32(offset))
            let type = UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8
            guard length >= 16, offset + length <= bytes.endIndex else { break }
            // struct nlmsgerr: int error, then the request's nlmsghdr (sequence at +8).
            if type == UInt16(NLMSG_ERROR), length >= 16 + 4 + 16 {
                let code = Int32(bitPattern: u32(offset + 16))
                result.append((u32(offset + 20 + 8), code))
            }
            offset += (length + 3) & ~3
        }
        return result
    }

    private func makeMessage(_ operation: AddressOperation) throws -> (OpaquePointer, UInt32) {
        let (address, adding) = switch operation {
        case .add(let address): (address, true)
        case .remove(let address): (address, false)
        }
        let request = try makeRequest(address, adding: adding)
        defer { rtnl_addr_put(request) }
        var message: OpaquePointer?
        let rc = adding ? rtnl_addr_build_add_request(request, NLM_F_CREATE | NLM_F_EXCL, &message)
                        : rtnl_addr_build_delete_request(request, 0, &message)
        guard rc >= 0, let message else { throw RouteSocket.error(rc, adding ? "adding" : "removing", Self.subject(operation)) }
        nl_complete_msg(socket.handle, message)
        return (message, nlmsg_hdr(message)!.pointee.nlmsg_seq)
    }

    private func makeRequest(_ address: InterfaceAddress, adding: Bool) throws -> OpaquePointer {
        let operation = adding ? "adding" : "removing"
        let subject = "\(address.cidr) on \(address.interface)"
        if try nameToIndex()[address.interface] == nil {
            // The device may have been created during this run (tunl0): look again once.
            namesByIndex = nil
            indexesByName = nil
        }
        guard let index = try nameToIndex()[address.interface] else {
            throw HostError(operation: operation, subject: subject, errno: ENODEV)
        }
        var local: OpaquePointer?
        let rc = nl_addr_parse(address.cidr, AF_UNSPEC, &local)
        guard rc >= 0, let local else { throw RouteSocket.error(rc, "parsing", address.cidr) }
        defer { nl_addr_put(local) }
        guard let request = rtnl_addr_alloc() else {
            throw HostError(operation: operation, subject: subject, errno: ENOMEM)
        }
        rtnl_addr_set_ifindex(request, index)
        rtnl_addr_set_family(request, nl_addr_get_family(local))
        let set = rtnl_addr_set_local(request, local)
        if set < 0 { rtnl_addr_put(request); throw RouteSocket.error(set, operation, subject) }
        rtnl_addr_set_prefixlen(request, Int32(address.prefixLength))
        if let label = address.label, !address.isIPv6 {
            let labelled = rtnl_addr_set_label(request, label)
            if labelled < 0 { rtnl_addr_put(request); throw RouteSocket.error(labelled, operation, subject) }
        }
        return request
    }

    private static func subject(_ operation: AddressOperation) -> String {
        switch operation {
        case .add(let address): return "\(address.cidr) to \(address.interface)"
        case .remove(let address): return "\(address.cidr) from \(address.interface)"
        }
    }

    private static func error(_ operation: AddressOperation, errno code: Int32) -> HostError {
        if case .add = operation { return HostError(operation: "adding", subject: subject(operation), errno: code) }
        return HostError(operation: "removing", subject: subject(operation), errno: code)
    }

    private var namesByIndex: [Int32: String]?
    private var indexesByName: [String: Int32]?

    private func indexToName() throws -> [Int32: String] {
        if let namesByIndex { return namesByIndex }
        let result = try LinkTable.names(socket)
        namesByIndex = result
        return result
    }

    private func nameToIndex() throws -> [String: Int32] {
        if let indexesByName { return indexesByName }
        let result = Dictionary(try indexToName().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        indexesByName = result
        return result
    }

    /// inet_ntop of the address bytes, so the text matches what the model canonicalises to.
    private static func text(of address: OpaquePointer) -> String? {
        let family = nl_addr_get_family(address)
        guard family == AF_INET || family == AF_INET6, let bytes = nl_addr_get_binary_addr(address) else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
