internal import CNetlink
import Glibc

/// `AddressControl` over rtnetlink with libnl-route-3: one dump to read; changes sent as a `NetlinkBatch`.
public final class NetlinkAddresses: AddressControl {
    private let socket: RouteSocket
    public init() throws {
        socket = try RouteSocket()
        try NetlinkBatch.prepare(socket.handle, "rtnetlink")
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
        let cache = NetlinkCache(raw)  // owned before anything else can throw
        let names = try indexToName()
        return cache.withObjects { $0.compactMap { addr in
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
        let failure = try NetlinkBatch.send(socket.handle, count: operations.count, what: "address") { index, sequence in
            try makeMessage(operations[index], sequence: sequence)
        }
        if let failure {
            throw BatchFailure(index: failure.index, error: Self.error(operations[failure.index], errno: failure.errno))
        }
    }

    private func makeMessage(_ operation: AddressOperation, sequence: UInt32) throws -> [UInt8] {
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
        defer { nlmsg_free(message) }
        nl_complete_msg(socket.handle, message)
        nlmsg_hdr(message)!.pointee.nlmsg_seq = sequence
        return NetlinkBatch.bytes(of: message)
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
