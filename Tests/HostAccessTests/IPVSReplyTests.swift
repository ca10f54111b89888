import Glibc
@testable import HostAccess
import Testing

/// The kernel's IPVS replies, built here byte by byte from the uapi headers (`linux/ip_vs.h`,
/// `linux/netlink.h`, `linux/genetlink.h`), well-formed and damaged: a damaged one is refused with
/// EBADMSG, never read past its end nor half-decoded into a service.
@Suite struct IPVSReplyTests {
    // linux/ip_vs.h
    static let attrService: UInt16 = 1, timeoutTCP: UInt16 = 4
    static let svcAF: UInt16 = 1, svcProtocol: UInt16 = 2, svcAddr: UInt16 = 3, svcPort: UInt16 = 4
    static let svcSched: UInt16 = 6, svcFlags: UInt16 = 7, svcTimeout: UInt16 = 8, svcNetmask: UInt16 = 9
    static let newService: UInt8 = 1, getConfig: UInt8 = 13
    // linux/netlink.h
    static let multi: UInt16 = 0x2, done: UInt16 = 3, error: UInt16 = 2
    static let sequence: UInt32 = 7

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xff) } }

    /// struct nlattr: length (header included), type, payload padded to 4 bytes.
    static func attribute(_ type: UInt16, _ payload: [UInt8], length: Int? = nil) -> [UInt8] {
        let header: [UInt8] = le16(UInt16(length ?? 4 + payload.count)) + le16(type)
        let padding = [UInt8](repeating: 0, count: (4 - payload.count % 4) % 4)
        return header + payload + padding
    }

    /// struct nlmsghdr, then struct genlmsghdr (command, version 1, reserved), then the attributes.
    static func message(_ command: UInt8, _ attributes: [[UInt8]], type: UInt16 = 0x25, length: Int? = nil) -> [UInt8] {
        let body: [UInt8] = [command, 1, 0, 0] + attributes.flatMap { $0 }
        let header: [UInt8] = le32(UInt32(length ?? 16 + body.count)) + le16(type) + le16(multi) + le32(sequence) + le32(0)
        return header + body
    }

    static let doneMessage: [UInt8] = header(length: 20, type: done, flags: multi) + le32(0)

    /// struct nlmsghdr of a control message (DONE, ERROR).
    static func header(length: UInt32, type: UInt16, flags: UInt16 = 0) -> [UInt8] {
        let first: [UInt8] = le32(length) + le16(type) + le16(flags)
        return first + le32(sequence) + le32(0)
    }

    /// The fields of TCP 192.0.2.10:80 wrr, persistent 300 s; `replacing` swaps one for a damaged one.
    static func serviceFields(replacing type: UInt16? = nil, with damaged: [UInt8] = []) -> [UInt8] {
        let fields: [(UInt16, [UInt8])] = [
            (svcAF, le16(2)), (svcProtocol, le16(6)), (svcAddr, [192, 0, 2, 10] + [UInt8](repeating: 0, count: 12)),
            (svcPort, [0, 80]), (svcSched, Array("wrr".utf8) + [0]), (svcFlags, le32(1) + le32(0xffff_ffff)),
            (svcTimeout, le32(300)), (svcNetmask, [255, 255, 255, 255]),
        ]
        return fields.flatMap { $0.0 == type ? damaged : attribute($0.0, $0.1) }
    }

    static func serviceReply(_ fields: [UInt8]) -> [UInt8] {
        message(newService, [attribute(attrService, fields)]) + doneMessage
    }

    static func decodeServices(_ datagram: [UInt8]) throws -> (values: [IPVSService], finished: Bool) {
        var bytes = datagram
        return try bytes.withUnsafeMutableBytes { raw in
            try IPVSMessages.replies(in: raw, sequence: sequence, isDump: true, what: "listing", subject: "the IPVS services") {
                try IPVSMessages.service(from: $0)
            }
        }
    }

    static func refused(_ error: any Error) -> Bool {
        (error as? HostError)?.code == .errno(EBADMSG)
    }

    @Test func aWellFormedServiceReplyDecodes() throws {
        let answer = try Self.decodeServices(Self.serviceReply(Self.serviceFields()))
        #expect(answer.finished)
        #expect(answer.values == [IPVSService(key: .address(.tcp, address: "192.0.2.10", port: 80), scheduler: "wrr",
                                              flags: 1, timeout: 300, netmask: 0xffff_ffff)])
    }

    /// Addresses are written without inet_ntop (it cost a fifth of reading a table): each reads as inet_ntop writes it.
    @Test(arguments: [[0, 0, 0, 0], [255, 255, 255, 255], [10, 0, 99, 100], [198, 51, 100, 9], [1, 20, 200, 7]] as [[UInt8]])
    func anIPv4AddressReadsAsInetNtopWritesIt(address: [UInt8]) throws {
        let fields = Self.serviceFields(replacing: Self.svcAddr, with: Self.attribute(Self.svcAddr, address + [UInt8](repeating: 0, count: 12)))
        let answer = try Self.decodeServices(Self.serviceReply(fields))
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var raw = address
        _ = inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
        let expected = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        #expect(answer.values.first?.key == .address(.tcp, address: expected, port: 80))
    }

    @Test(arguments: [
        ("port of 1 byte", svcPort, attribute(svcPort, [80])),
        ("address family of 1 byte", svcAF, attribute(svcAF, [2])),
        ("protocol with no payload", svcProtocol, attribute(svcProtocol, [])),
        ("flags of 4 bytes, not struct ip_vs_flags", svcFlags, attribute(svcFlags, le32(1))),
        ("timeout of 2 bytes", svcTimeout, attribute(svcTimeout, [1, 0])),
        ("scheduler without its NUL", svcSched, attribute(svcSched, Array("wrr".utf8))),
        ("scheduler longer than IP_VS_SCHEDNAME_MAXLEN", svcSched, attribute(svcSched, Array(String(repeating: "s", count: 40).utf8) + [0])),
    ])
    func aServiceAttributeShorterOrLongerThanItsTypeIsRefused(_ what: String, type: UInt16, damaged: [UInt8]) throws {
        #expect(performing: { try Self.decodeServices(Self.serviceReply(Self.serviceFields(replacing: type, with: damaged))) },
                throws: Self.refused)
    }

    /// An attribute whose length runs past the end of its nest is not read: the service is refused or
    /// left out, never decoded from the bytes that follow.
    @Test func anAttributeRunningPastItsNestIsNotRead() throws {
        let fields = Self.serviceFields(replacing: Self.svcPort, with: []) + Self.attribute(Self.svcPort, [0, 80], length: 64)
        let answer = try? Self.decodeServices(Self.serviceReply(fields))
        #expect(answer == nil || answer?.values.isEmpty == true)
    }

    @Test func aMessageLongerThanTheDatagramIsRefused() throws {
        let whole = Self.message(Self.newService, [Self.attribute(Self.attrService, Self.serviceFields())])
        let cut = Self.message(Self.newService, [Self.attribute(Self.attrService, Self.serviceFields())], length: whole.count + 64)
        #expect(performing: { try Self.decodeServices(cut) }, throws: Self.refused)
        #expect(performing: { try Self.decodeServices(Array(whole.prefix(40))) }, throws: Self.refused)
    }

    @Test func aTopLevelAttributeShorterThanItsTypeIsRefused() throws {
        var bytes = Self.message(Self.getConfig, [Self.attribute(Self.timeoutTCP, [1, 0])])
        #expect(performing: {
            try bytes.withUnsafeMutableBytes { raw in
                try IPVSMessages.replies(in: raw, sequence: Self.sequence, isDump: false, what: "reading", subject: "the IPVS timeouts") {
                    IPVSMessages.timeouts(from: $0)
                }
            }
        }, throws: Self.refused)
    }

    @Test func anErrorReplyCarriesTheKernelsErrnoAndATruncatedOneIsRefused() throws {
        let request = [UInt8](repeating: 0, count: 16)
        var exists: [UInt8] = Self.header(length: 36, type: Self.error) + Self.le32(UInt32(bitPattern: -EEXIST))
        exists += request
        #expect(performing: {
            try exists.withUnsafeMutableBytes { try IPVSMessages.replies(in: $0, sequence: Self.sequence, isDump: false, what: "adding",
                                                                         subject: "x") { _ in 0 } }
        }, throws: { ($0 as? HostError)?.code == .errno(EEXIST) })
        var truncated: [UInt8] = Self.header(length: 18, type: Self.error) + [0xef, 0xff]
        #expect(performing: {
            try truncated.withUnsafeMutableBytes { try IPVSMessages.replies(in: $0, sequence: Self.sequence, isDump: false, what: "adding",
                                                                            subject: "x") { _ in 0 } }
        }, throws: Self.refused)
    }
}
