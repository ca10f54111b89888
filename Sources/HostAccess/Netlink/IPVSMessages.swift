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
        case .flush:
            return try message(Int32(IPVS_CMD_FLUSH), family, sequence, ack: true) { _ in }
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

    /// The attribute policies of the replies, as ipvsadm's libipvs declares them: libnl refuses an
    /// attribute shorter than its type (or a string without its NUL), so every `nla_get_*` below reads
    /// inside the attribute it was handed.
    private static let commandPolicy = policy(count: Int(__IPVS_CMD_ATTR_MAX), [
        (IPVS_CMD_ATTR_SERVICE, NLA_NESTED, 0, 0), (IPVS_CMD_ATTR_DEST, NLA_NESTED, 0, 0),
        (IPVS_CMD_ATTR_DAEMON, NLA_NESTED, 0, 0), (IPVS_CMD_ATTR_TIMEOUT_TCP, NLA_U32, 4, 0),
        (IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, NLA_U32, 4, 0), (IPVS_CMD_ATTR_TIMEOUT_UDP, NLA_U32, 4, 0),
    ])

    private static let servicePolicy = policy(count: Int(__IPVS_SVC_ATTR_MAX), [
        (IPVS_SVC_ATTR_AF, NLA_U16, 2, 0), (IPVS_SVC_ATTR_PROTOCOL, NLA_U16, 2, 0),
        (IPVS_SVC_ATTR_ADDR, NLA_UNSPEC, 4, 16), (IPVS_SVC_ATTR_PORT, NLA_U16, 2, 0),
        (IPVS_SVC_ATTR_FWMARK, NLA_U32, 4, 0),
        (IPVS_SVC_ATTR_SCHED_NAME, NLA_STRING, 1, Int(IP_VS_SCHEDNAME_MAXLEN)),
        // struct ip_vs_flags { flags; mask }
        (IPVS_SVC_ATTR_FLAGS, NLA_UNSPEC, 8, 8),
        (IPVS_SVC_ATTR_TIMEOUT, NLA_U32, 4, 0), (IPVS_SVC_ATTR_NETMASK, NLA_U32, 4, 0),
        (IPVS_SVC_ATTR_STATS, NLA_NESTED, 0, 0),
        (IPVS_SVC_ATTR_PE_NAME, NLA_STRING, 1, Int(IP_VS_PENAME_MAXLEN)),
        (IPVS_SVC_ATTR_STATS64, NLA_NESTED, 0, 0),
    ])

    private static let destinationPolicy = policy(count: Int(__IPVS_DEST_ATTR_MAX), [
        (IPVS_DEST_ATTR_ADDR, NLA_UNSPEC, 4, 16), (IPVS_DEST_ATTR_PORT, NLA_U16, 2, 0),
        (IPVS_DEST_ATTR_FWD_METHOD, NLA_U32, 4, 0), (IPVS_DEST_ATTR_WEIGHT, NLA_U32, 4, 0),
        (IPVS_DEST_ATTR_U_THRESH, NLA_U32, 4, 0), (IPVS_DEST_ATTR_L_THRESH, NLA_U32, 4, 0),
        (IPVS_DEST_ATTR_ACTIVE_CONNS, NLA_U32, 4, 0), (IPVS_DEST_ATTR_INACT_CONNS, NLA_U32, 4, 0),
        (IPVS_DEST_ATTR_PERSIST_CONNS, NLA_U32, 4, 0), (IPVS_DEST_ATTR_STATS, NLA_NESTED, 0, 0),
        (IPVS_DEST_ATTR_ADDR_FAMILY, NLA_U16, 2, 0), (IPVS_DEST_ATTR_STATS64, NLA_NESTED, 0, 0),
        (IPVS_DEST_ATTR_TUN_TYPE, NLA_U8, 1, 0), (IPVS_DEST_ATTR_TUN_PORT, NLA_U16, 2, 0),
        (IPVS_DEST_ATTR_TUN_FLAGS, NLA_U16, 2, 0),
    ])

    /// A policy table indexed by attribute type, `count` entries (the uapi's `__…_MAX`): (type, kind, minlen, maxlen).
    private static func policy(count: Int, _ entries: [(Int, Int, Int, Int)]) -> [nla_policy] {
        var table = [nla_policy](repeating: nla_policy(), count: count)
        for (type, kind, minimum, maximum) in entries where type < count {
            table[type] = nla_policy(type: UInt16(kind), minlen: UInt16(minimum), maxlen: UInt16(maximum))
        }
        return table
    }

    /// The attributes parsed by `policy`; nil when one breaks it (a truncated or oversized attribute).
    private static func parseAttributes(_ policy: [nla_policy], _ parser: (UnsafeMutablePointer<UnsafeMutablePointer<nlattr>?>, Int32,
                                                               UnsafePointer<nla_policy>) -> Int32) -> [UnsafeMutablePointer<nlattr>?]? {
        var table = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: policy.count)
        let rc = policy.withUnsafeBufferPointer { rules in
            table.withUnsafeMutableBufferPointer { parser($0.baseAddress!, Int32(policy.count - 1), rules.baseAddress!) }
        }
        return rc >= 0 ? table : nil
    }

    /// Walks one datagram of replies and hands the attributes of each message answering `sequence` to
    /// `parse`, while the datagram's bytes are alive (no attribute pointer outlives this call). Returns
    /// the values and whether the answer is complete; throws on the kernel's error, or on a message
    /// whose lengths or attributes do not hold together (never reading past its end).
    static func replies<T>(in datagram: UnsafeMutableRawBufferPointer, sequence: UInt32, isDump: Bool,
                           what: String, subject: String,
                           parse: ([UnsafeMutablePointer<nlattr>?]) throws -> T?) throws -> (values: [T], finished: Bool) {
        let headerSize = MemoryLayout<nlmsghdr>.size
        var values: [T] = []
        var finished = false
        var offset = 0
        while offset + headerSize <= datagram.count {
            let header = datagram.loadUnaligned(fromByteOffset: offset, as: nlmsghdr.self)
            let length = Int(header.nlmsg_len)
            guard length >= headerSize, length <= datagram.count - offset else {
                throw HostError(operation: what, subject: "\(subject): a reply of \(length) bytes in \(datagram.count - offset)", errno: EBADMSG)
            }
            let start = offset
            offset += min((length + 3) & ~3, datagram.count - offset)
            guard header.nlmsg_seq == sequence else { continue }
            switch Int32(header.nlmsg_type) {
            case NLMSG_DONE:
                finished = true
            case NLMSG_ERROR:
                guard length >= headerSize + 4 else {
                    throw HostError(operation: what, subject: "\(subject): a truncated error reply", errno: EBADMSG)
                }
                let code = datagram.loadUnaligned(fromByteOffset: start + headerSize, as: Int32.self)
                if code != 0 { throw HostError(operation: what, subject: subject, errno: code == Int32.min ? EINVAL : -code) }
                finished = true
            default:
                // libnl reads the message as its struct; Swift itself reads these bytes only with loadUnaligned.
                let message = UnsafeMutablePointer<nlmsghdr>(OpaquePointer(datagram.baseAddress! + start))
                guard let attributes = parseAttributes(commandPolicy, { genlmsg_parse(message, 0, $0, $1, $2) }) else {
                    throw HostError(operation: what, subject: "\(subject): a reply whose attributes are malformed", errno: EBADMSG)
                }
                do {
                    if let value = try parse(attributes) { values.append(value) }
                } catch is MalformedAttribute {
                    throw HostError(operation: what, subject: "\(subject): a reply whose attributes are malformed", errno: EBADMSG)
                }
                if !isDump { finished = true }
            }
        }
        return (values, finished)
    }

    /// A nested attribute that breaks its policy.
    struct MalformedAttribute: Error {}

    /// The attributes inside `attribute`; nil when it is absent, `MalformedAttribute` when they break `policy`.
    private static func nested(_ attribute: UnsafeMutablePointer<nlattr>?, _ policy: [nla_policy]) throws -> [UnsafeMutablePointer<nlattr>?]? {
        guard let attribute else { return nil }
        guard let table = parseAttributes(policy, { nla_parse_nested($0, $1, attribute, $2) }) else { throw MalformedAttribute() }
        return table
    }

    /// The service in a reply's attributes; nil when it is malformed or of a kind lvs-node does not manage.
    static func service(from attributes: [UnsafeMutablePointer<nlattr>?]) throws -> IPVSService? {
        guard let fields = try nested(attributes[Int(IPVS_CMD_ATTR_SERVICE)], servicePolicy),
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
        // The policy guarantees the NUL inside the attribute.
        let scheduler = fields[Int(IPVS_SVC_ATTR_SCHED_NAME)].map { String(cString: nla_get_string($0)) } ?? ""
        let flags = fields[Int(IPVS_SVC_ATTR_FLAGS)].map { UnsafeRawPointer(nla_data($0)!).loadUnaligned(as: UInt32.self) } ?? 0
        let timeout = fields[Int(IPVS_SVC_ATTR_TIMEOUT)].map { nla_get_u32($0) } ?? 0
        let rawMask = fields[Int(IPVS_SVC_ATTR_NETMASK)].map { nla_get_u32($0) } ?? 0
        return IPVSService(key: key, scheduler: scheduler, flags: flags & ~IPVSService.hashed, timeout: timeout,
                           netmask: af == AF_INET6 ? rawMask : UInt32(bigEndian: rawMask))
    }

    static func destination(from attributes: [UnsafeMutablePointer<nlattr>?], of service: IPVSServiceKey) throws -> IPVSDestination? {
        guard let fields = try nested(attributes[Int(IPVS_CMD_ATTR_DEST)], destinationPolicy) else { return nil }
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

    /// union nf_inet_addr: an IPv4 address in the first 4 bytes, IPv6 in 16; only those families.
    private static func address(_ attribute: UnsafeMutablePointer<nlattr>?, family: Int32) -> String? {
        guard let attribute, family == AF_INET || family == AF_INET6, nla_len(attribute) >= (family == AF_INET6 ? 16 : 4) else { return nil }
        if family == AF_INET {
            // Dotted quad written directly: inet_ntop and its buffer for each of a table's real servers cost more.
            // Into one stack buffer, then one String: appending each number as a String was 1,800
            // instructions an address, a fifth of reading a table's real servers.
            let bytes = UnsafeRawPointer(nla_data(attribute)!)
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { out in
                var count = 0
                for index in 0..<4 {
                    if index > 0 { out[count] = UInt8(ascii: "."); count += 1 }
                    let value = bytes.load(fromByteOffset: index, as: UInt8.self)
                    if value >= 100 { out[count] = 48 + value / 100; count += 1 }
                    if value >= 10 { out[count] = 48 + value / 10 % 10; count += 1 }
                    out[count] = 48 + value % 10
                    count += 1
                }
                return String(decoding: UnsafeBufferPointer(rebasing: out[..<count]), as: UTF8.self)
            }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, nla_data(attribute), &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
