internal import CNetlink
import Glibc

/// `AddressControl` over rtnetlink (a libnl socket; the messages are `AddressMessages`): one dump to
/// read; changes sent as a `NetlinkBatch`.
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

    /// One RTM_GETADDR dump read straight from the socket (libnl's cache made an object per address
    /// and inet_ntop formatted each with sprintf). A dump the kernel says a change interrupted is read again.
    private func dumpAddresses() throws -> [InterfaceAddress] {
        let names = try indexToName()
        for _ in 0..<3 {
            var entries: [(index: Int32, address: InterfaceAddress)] = []
            var interrupted = false
            let sequence = nl_socket_use_seq(socket.handle)
            var request = AddressMessages.dumpRequest(sequence: sequence, port: nl_socket_get_local_port(socket.handle))
            let sent = request.withUnsafeMutableBytes { nl_sendto(socket.handle, $0.baseAddress, $0.count) }
            if sent < 0 { throw RouteSocket.error(sent, "listing", "interface addresses") }
            var receive = [UInt8](repeating: 0, count: 1 << 16)
            let fd = nl_socket_get_fd(socket.handle)
            while true {
                let count = recv(fd, &receive, receive.count, Int32(MSG_TRUNC))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw HostError(operation: "listing", subject: "interface addresses", errno: errno)
                }
                guard count <= receive.count else {
                    throw HostError(operation: "listing", subject: "interface addresses (a reply larger than 64 KiB)", errno: EMSGSIZE)
                }
                let part = receive.withUnsafeBytes { AddressMessages.parseDump(UnsafeRawBufferPointer(rebasing: $0[0..<count]), sequence: sequence) }
                if part.error != 0 { throw HostError(operation: "listing", subject: "interface addresses", errno: -part.error) }
                entries += part.addresses
                interrupted = interrupted || part.interrupted
                if part.done { break }
            }
            if interrupted { continue }
            return entries.map { index, address in
                var named = address
                named.interface = names[index] ?? "if\(index)"
                return named
            }
        }
        throw HostError(operation: "listing", subject: "interface addresses (they kept changing during the dump)", errno: EAGAIN)
    }

    public func apply(_ operations: [AddressOperation]) throws {
        dump = nil
        let port = nl_socket_get_local_port(socket.handle)
        let failure = try NetlinkBatch.sendAppending(socket.handle, count: operations.count, what: "address") { index, sequence, buffer in
            let operation = operations[index]
            try AddressMessages.appendRequest(operation, interfaceIndex: try interfaceIndex(operation), sequence: sequence,
                                              port: port, to: &buffer)
        }
        if let failure {
            throw BatchFailure(index: failure.index, error: Self.error(operations[failure.index], errno: failure.errno))
        }
    }

    private func interfaceIndex(_ operation: AddressOperation) throws -> Int32 {
        let (address, operationName) = switch operation {
        case .add(let address): (address, "adding")
        case .remove(let address): (address, "removing")
        }
        // A batch names one device a thousand times: no table lookup for the same one again.
        if let lastIndex, lastIndex.name == address.interface { return lastIndex.index }
        var found = try nameToIndex()[address.interface]
        if found == nil {
            // The device may have been created during this run (tunl0): look again once.
            namesByIndex = nil
            indexesByName = nil
            lastIndex = nil
            found = try nameToIndex()[address.interface]
        }
        guard let index = found else {
            throw HostError(operation: operationName, subject: "\(address.cidr) on \(address.interface)", errno: ENODEV)
        }
        lastIndex = (address.interface, index)
        return index
    }

    /// The device `interfaceIndex` found last, kept as long as the tables it came from.
    private var lastIndex: (name: String, index: Int32)?

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
}
