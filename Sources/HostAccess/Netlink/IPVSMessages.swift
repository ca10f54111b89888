internal import CNetlink
import Glibc

/// The IPVS generic-netlink messages, built and read with libnl-genl-3 in the layout of the kernel's
/// `linux/ip_vs.h` (what ipvsadm and keepalived send): a command, then the service or destination as
/// a nested attribute. Addresses travel as 16 bytes, ports in network order.
public enum IPVSMessages {
    static let version: UInt8 = UInt8(IPVS_GENL_VERSION)

    /// The bytes of the request for `operation`, for the family id `family` and sequence number
    /// `sequence`: what `NetlinkIPVS` sends, and what the encoding tests read back.
    public static func request(_ operation: IPVSOperation, family: Int32, sequence: UInt32) throws -> [UInt8] {
        switch operation {
        case .addService(let service):
            return try message(Int32(IPVS_CMD_NEW_SERVICE), family, sequence, ack: true) { try putService($0, service.key, full: service) }
        case .editService(let service):
            return try message(Int32(IPVS_CMD_SET_SERVICE), family, sequence, ack: true) { try putService($0, service.key, full: service) }
        case .deleteService(let key):
            return try message(Int32(IPVS_CMD_DEL_SERVICE), family, sequence, ack: true) { try putService($0, key, full: nil) }
        case .addDestination(let destination):
            return try message(Int32(IPVS_CMD_NEW_DEST), family, sequence, ack: true) { try putDestination($0, destination, full: true) }
        case .editDestination(let destination):
            return try message(Int32(IPVS_CMD_SET_DEST), family, sequence, ack: true) { try putDestination($0, destination, full: true) }
        case .deleteDestination(let destination):
            return try message(Int32(IPVS_CMD_DEL_DEST), family, sequence, ack: true) { try putDestination($0, destination, full: false) }
        case .setTimeouts(let timeouts):
            return try message(Int32(IPVS_CMD_SET_CONFIG), family, sequence, ack: true) { message in
                try check(nla_put_u32(message, Int32(IPVS_CMD_ATTR_TIMEOUT_TCP), timeouts.tcp))
                try check(nla_put_u32(message, Int32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN), timeouts.tcpFin))
                try check(nla_put_u32(message, Int32(IPVS_CMD_ATTR_TIMEOUT_UDP), timeouts.udp))
            }
        }
    }

    /// A dump of every service.
    static func listServices(family: Int32, sequence: UInt32) throws -> [UInt8] {
        try message(Int32(IPVS_CMD_GET_SERVICE), family, sequence, ack: false, dump: true) { _ in }
    }

    /// A dump of one service's real servers.
    static func listDestinations(of key: IPVSServiceKey, family: Int32, sequence: UInt32) throws -> [UInt8] {
        try message(Int32(IPVS_CMD_GET_DEST), family, sequence, ack: false, dump: true) { try putService($0, key, full: nil) }
    }

    static func getTimeouts(family: Int32, sequence: UInt32) throws -> [UInt8] {
        try message(Int32(IPVS_CMD_GET_CONFIG), family, sequence, ack: false) { _ in }
    }

    // MARK: - building

    private static func message(_ command: Int32, _ family: Int32, _ sequence: UInt32, ack: Bool, dump: Bool = false,
                                _ body: (OpaquePointer) throws -> Void) throws -> [UInt8] {
        guard let message = nlmsg_alloc() else { throw HostError(operation: "allocating", subject: "an IPVS request", errno: ENOMEM) }
        defer { nlmsg_free(message) }
        // Without NLM_F_REQUEST the kernel skips the message (and still acknowledges it).
        let flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0) | (dump ? NLM_F_DUMP : 0)
        guard genlmsg_put(message, UInt32(NL_AUTO_PORT), sequence, family, 0, flags, UInt8(command), version) != nil else {
            throw HostError(operation: "building", subject: "an IPVS request", errno: ENOBUFS)
        }
        try body(message)
        return NetlinkBatch.bytes(of: message)
    }

    private static func check(_ rc: Int32) throws {
        if rc < 0 { throw RouteSocket.error(rc, "building", "an IPVS request") }
    }

    private static func nest(_ message: OpaquePointer, _ type: Int32, _ body: () throws -> Void) throws {
        guard let start = nla_nest_start(message, type) else { throw HostError(operation: "building", subject: "an IPVS request", errno: ENOBUFS) }
        try body()
        try check(nla_nest_end(message, start))
    }

    /// The service's key, and with `full` every setting the kernel requires to add or edit it.
    private static func putService(_ message: OpaquePointer, _ key: IPVSServiceKey, full: IPVSService?) throws {
        try nest(message, Int32(IPVS_CMD_ATTR_SERVICE)) {
            try check(nla_put_u16(message, Int32(IPVS_SVC_ATTR_AF), UInt16(key.isIPv6 ? AF_INET6 : AF_INET)))
            switch key {
            case .address(let proto, let address, let port):
                try check(nla_put_u16(message, Int32(IPVS_SVC_ATTR_PROTOCOL), proto.number))
                try putAddress(message, Int32(IPVS_SVC_ATTR_ADDR), address)
                try check(nla_put_u16(message, Int32(IPVS_SVC_ATTR_PORT), port.bigEndian))
            case .firewallMark(let mark, _):
                try check(nla_put_u32(message, Int32(IPVS_SVC_ATTR_FWMARK), mark))
            }
            guard let service = full else { return }
            try check(nla_put_string(message, Int32(IPVS_SVC_ATTR_SCHED_NAME), service.scheduler))
            // struct ip_vs_flags { flags; mask }: the mask says which flags this request sets.
            var flags: (UInt32, UInt32) = (service.flags, ~IPVSService.hashed)
            try check(withUnsafeBytes(of: &flags) { nla_put(message, Int32(IPVS_SVC_ATTR_FLAGS), 8, $0.baseAddress) })
            try check(nla_put_u32(message, Int32(IPVS_SVC_ATTR_TIMEOUT), service.timeout))
            // IPv4: the mask in network order; IPv6: the prefix length.
            try check(nla_put_u32(message, Int32(IPVS_SVC_ATTR_NETMASK), key.isIPv6 ? service.netmask : service.netmask.bigEndian))
        }
    }

    private static func putDestination(_ message: OpaquePointer, _ destination: IPVSDestination, full: Bool) throws {
        try putService(message, destination.service, full: nil)
        try nest(message, Int32(IPVS_CMD_ATTR_DEST)) {
            try putAddress(message, Int32(IPVS_DEST_ATTR_ADDR), destination.address)
            try check(nla_put_u16(message, Int32(IPVS_DEST_ATTR_PORT), destination.port.bigEndian))
            try check(nla_put_u16(message, Int32(IPVS_DEST_ATTR_ADDR_FAMILY), UInt16(destination.address.contains(":") ? AF_INET6 : AF_INET)))
            guard full else { return }
            try check(nla_put_u32(message, Int32(IPVS_DEST_ATTR_FWD_METHOD), destination.forwarding.code))
            try check(nla_put_u32(message, Int32(IPVS_DEST_ATTR_WEIGHT), UInt32(bitPattern: destination.weight)))
            try check(nla_put_u32(message, Int32(IPVS_DEST_ATTR_U_THRESH), destination.upperThreshold))
            try check(nla_put_u32(message, Int32(IPVS_DEST_ATTR_L_THRESH), destination.lowerThreshold))
        }
    }

    /// union nf_inet_addr: 16 bytes, an IPv4 address in the first four.
    private static func putAddress(_ message: OpaquePointer, _ type: Int32, _ text: String) throws {
        var bytes = [UInt8](repeating: 0, count: 16)
        let family = text.contains(":") ? AF_INET6 : AF_INET
        guard inet_pton(family, text, &bytes) == 1 else {
            throw HostError(operation: "encoding", subject: "the address '\(text)'", errno: EINVAL)
        }
        try check(nla_put(message, type, 16, bytes))
    }

    // MARK: - reading

    /// The attributes of one genetlink message, by IPVS_CMD_ATTR_*; nil for a message of another kind.
    static func attributes(_ header: UnsafeMutablePointer<nlmsghdr>) -> [UnsafeMutablePointer<nlattr>?]? {
        var table = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: Int(IPVS_CMD_ATTR_TIMEOUT_UDP) + 1)
        guard genlmsg_parse(header, 0, &table, Int32(table.count - 1), nil) >= 0 else { return nil }
        return table
    }

    private static func nested(_ attribute: UnsafeMutablePointer<nlattr>?, max: Int32) -> [UnsafeMutablePointer<nlattr>?]? {
        guard let attribute else { return nil }
        var table = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: Int(max) + 1)
        guard nla_parse_nested(&table, max, attribute, nil) >= 0 else { return nil }
        return table
    }

    static func service(from attributes: [UnsafeMutablePointer<nlattr>?]) -> IPVSService? {
        guard let fields = nested(attributes[Int(IPVS_CMD_ATTR_SERVICE)], max: Int32(IPVS_SVC_ATTR_STATS64)),
              let af = fields[Int(IPVS_SVC_ATTR_AF)].map({ Int32(nla_get_u16($0)) }) else { return nil }
        let key: IPVSServiceKey
        if let mark = fields[Int(IPVS_SVC_ATTR_FWMARK)].map({ nla_get_u32($0) }), mark != 0 {
            key = .firewallMark(mark, ipv6: af == AF_INET6)
        } else {
            guard let number = fields[Int(IPVS_SVC_ATTR_PROTOCOL)].map({ nla_get_u16($0) }),
                  let proto = IPVSProtocol(number: number),
                  let address = address(fields[Int(IPVS_SVC_ATTR_ADDR)], family: af),
                  let port = fields[Int(IPVS_SVC_ATTR_PORT)].map({ UInt16(bigEndian: nla_get_u16($0)) }) else { return nil }
            key = .address(proto, address: address, port: port)
        }
        let scheduler = fields[Int(IPVS_SVC_ATTR_SCHED_NAME)].map { String(cString: nla_get_string($0)) } ?? ""
        var flags: UInt32 = 0
        if let attribute = fields[Int(IPVS_SVC_ATTR_FLAGS)], nla_len(attribute) >= 4 {
            flags = nla_data(attribute).load(as: UInt32.self) & ~IPVSService.hashed
        }
        let timeout = fields[Int(IPVS_SVC_ATTR_TIMEOUT)].map { nla_get_u32($0) } ?? 0
        let rawMask = fields[Int(IPVS_SVC_ATTR_NETMASK)].map { nla_get_u32($0) } ?? 0
        return IPVSService(key: key, scheduler: scheduler, flags: flags, timeout: timeout,
                           netmask: af == AF_INET6 ? rawMask : UInt32(bigEndian: rawMask))
    }

    static func destination(from attributes: [UnsafeMutablePointer<nlattr>?], of service: IPVSServiceKey) -> IPVSDestination? {
        guard let fields = nested(attributes[Int(IPVS_CMD_ATTR_DEST)], max: Int32(IPVS_DEST_ATTR_TUN_FLAGS)) else { return nil }
        let af = fields[Int(IPVS_DEST_ATTR_ADDR_FAMILY)].map { Int32(nla_get_u16($0)) } ?? (service.isIPv6 ? AF_INET6 : AF_INET)
        guard let address = address(fields[Int(IPVS_DEST_ATTR_ADDR)], family: af),
              let port = fields[Int(IPVS_DEST_ATTR_PORT)].map({ UInt16(bigEndian: nla_get_u16($0)) }),
              let forwarding = fields[Int(IPVS_DEST_ATTR_FWD_METHOD)].flatMap({ IPVSForwarding(code: nla_get_u32($0)) }) else { return nil }
        func u32(_ index: Int32) -> UInt32 { fields[Int(index)].map { nla_get_u32($0) } ?? 0 }
        var destination = IPVSDestination(service: service, address: address, port: port, forwarding: forwarding,
                                          weight: Int32(bitPattern: u32(Int32(IPVS_DEST_ATTR_WEIGHT))),
                                          upperThreshold: u32(Int32(IPVS_DEST_ATTR_U_THRESH)),
                                          lowerThreshold: u32(Int32(IPVS_DEST_ATTR_L_THRESH)))
        destination.activeConnections = u32(Int32(IPVS_DEST_ATTR_ACTIVE_CONNS))
        destination.inactiveConnections = u32(Int32(IPVS_DEST_ATTR_INACT_CONNS))
        return destination
    }

    static func timeouts(from attributes: [UnsafeMutablePointer<nlattr>?]) -> IPVSTimeouts {
        func u32(_ index: Int32) -> UInt32 { attributes[Int(index)].map { nla_get_u32($0) } ?? 0 }
        return IPVSTimeouts(tcp: u32(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP)), tcpFin: u32(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)),
                            udp: u32(Int32(IPVS_CMD_ATTR_TIMEOUT_UDP)))
    }

    private static func address(_ attribute: UnsafeMutablePointer<nlattr>?, family: Int32) -> String? {
        guard let attribute, nla_len(attribute) >= (family == AF_INET6 ? 16 : 4) else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, nla_data(attribute), &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
