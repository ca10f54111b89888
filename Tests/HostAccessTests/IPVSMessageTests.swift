import HostAccess
import Testing

/// The IPVS requests as bytes, read back with a parser written here from the kernel's uapi
/// (`linux/ip_vs.h`, `linux/netlink.h`, `linux/genetlink.h`), not with lvs-node's own decoder.
@Suite struct IPVSMessageTests {
    // linux/ip_vs.h
    static let newService: UInt8 = 1, setService: UInt8 = 2, delService: UInt8 = 3
    static let newDest: UInt8 = 5, setDest: UInt8 = 6, delDest: UInt8 = 7, setConfig: UInt8 = 12, flush: UInt8 = 17
    static let attrService: UInt16 = 1, attrDest: UInt16 = 2
    static let timeoutTCP: UInt16 = 4, timeoutTCPFin: UInt16 = 5, timeoutUDP: UInt16 = 6
    static let svcAF: UInt16 = 1, svcProtocol: UInt16 = 2, svcAddr: UInt16 = 3, svcPort: UInt16 = 4, svcFwmark: UInt16 = 5
    static let svcSched: UInt16 = 6, svcFlags: UInt16 = 7, svcTimeout: UInt16 = 8, svcNetmask: UInt16 = 9
    static let destAddr: UInt16 = 1, destPort: UInt16 = 2, destFwd: UInt16 = 3, destWeight: UInt16 = 4
    static let destUpper: UInt16 = 5, destLower: UInt16 = 6, destFamily: UInt16 = 11
    // linux/netlink.h
    static let request: UInt16 = 0x1, ack: UInt16 = 0x4

    struct Message {
        let type: UInt16
        let flags: UInt16
        let sequence: UInt32
        let command: UInt8
        let version: UInt8
        let attributes: [UInt16: [UInt8]]
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ at: Int = 0) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    /// Type (without the nested/byte-order bits) → payload, checking lengths and 4-byte alignment.
    static func attributes(_ bytes: ArraySlice<UInt8>) -> [UInt16: [UInt8]] {
        var result: [UInt16: [UInt8]] = [:]
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
            let type = (UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8) & 0x3fff
            #expect(length >= 4 && offset + length <= bytes.endIndex)
            result[type] = Array(bytes[(offset + 4)..<(offset + length)])
            offset += (length + 3) & ~3
        }
        #expect(offset == bytes.endIndex)
        return result
    }

    static func parse(_ bytes: [UInt8]) -> Message {
        #expect(Int(u32(bytes)) == bytes.count)
        return Message(type: u16(bytes, 4), flags: u16(bytes, 6), sequence: u32(bytes, 8), command: bytes[16], version: bytes[17],
                       attributes: attributes(bytes[20...]))
    }

    static func encode(_ operation: IPVSOperation) throws -> Message {
        parse(try IPVSMessages.request(operation, family: 0x25, sequence: 7))
    }

    static let web = IPVSServiceKey.address(.tcp, address: "192.0.2.10", port: 80)

    @Test func addingAServiceCarriesEverySettingTheKernelRequires() throws {
        let service = IPVSService(key: Self.web, scheduler: "wrr", flags: IPVSService.persistent, timeout: 300, netmask: 0xffff_ff00)
        let message = try Self.encode(.addService(service))
        #expect(message.type == 0x25 && message.sequence == 7)
        #expect(message.flags & Self.request != 0 && message.flags & Self.ack != 0)
        #expect(message.command == Self.newService && message.version == 1)
        let fields = Self.attributes(try #require(message.attributes[Self.attrService])[...])
        #expect(fields[Self.svcAF] == [2, 0])                       // AF_INET
        #expect(fields[Self.svcProtocol] == [6, 0])                 // IPPROTO_TCP
        #expect(fields[Self.svcAddr] == [192, 0, 2, 10] + [UInt8](repeating: 0, count: 12))
        #expect(fields[Self.svcPort] == [0, 80])                    // network order
        #expect(fields[Self.svcSched] == Array("wrr".utf8) + [0])
        let flags = try #require(fields[Self.svcFlags])
        #expect(flags.count == 8 && Self.u32(flags) == 1 && Self.u32(flags, 4) & 1 == 1)
        #expect(fields[Self.svcTimeout].map { Self.u32($0) } == 300)
        #expect(fields[Self.svcNetmask] == [255, 255, 255, 0])      // network order
        #expect(fields[Self.svcFwmark] == nil)
    }

    @Test func editingAndDeletingAServiceUseTheirCommands() throws {
        #expect(try Self.encode(.editService(IPVSService(key: Self.web, scheduler: "rr"))).command == Self.setService)
        let delete = try Self.encode(.deleteService(Self.web))
        #expect(delete.command == Self.delService)
        let fields = Self.attributes(try #require(delete.attributes[Self.attrService])[...])
        #expect(Set(fields.keys) == [Self.svcAF, Self.svcProtocol, Self.svcAddr, Self.svcPort])
    }

    @Test func aFirewallMarkServiceIsKeyedByItsMark() throws {
        let key = IPVSServiceKey.firewallMark(7, ipv6: true)
        let message = try Self.encode(.addService(IPVSService(key: key, scheduler: "sh", flags: IPVSService.schedulerFlag2)))
        let fields = Self.attributes(try #require(message.attributes[Self.attrService])[...])
        #expect(fields[Self.svcAF] == [10, 0])                      // AF_INET6
        #expect(fields[Self.svcFwmark].map { Self.u32($0) } == 7)
        #expect(fields[Self.svcAddr] == nil && fields[Self.svcPort] == nil && fields[Self.svcProtocol] == nil)
        #expect(fields[Self.svcNetmask].map { Self.u32($0) } == 128) // IPv6: a prefix length, host order
        #expect(Self.u32(try #require(fields[Self.svcFlags])) == 0x10)
    }

    @Test(arguments: [(IPVSForwarding.dr, UInt32(3)), (.tun, 2), (.nat, 0)])
    func aRealServerCarriesItsServiceAndSettings(forwarding: IPVSForwarding, code: UInt32) throws {
        let destination = IPVSDestination(service: Self.web, address: "198.51.100.11", port: 8080, forwarding: forwarding, weight: 3,
                                          upperThreshold: 100, lowerThreshold: 10)
        let message = try Self.encode(.addDestination(destination))
        #expect(message.command == Self.newDest)
        let service = Self.attributes(try #require(message.attributes[Self.attrService])[...])
        #expect(service[Self.svcPort] == [0, 80] && service[Self.svcSched] == nil)
        let fields = Self.attributes(try #require(message.attributes[Self.attrDest])[...])
        #expect(fields[Self.destAddr] == [198, 51, 100, 11] + [UInt8](repeating: 0, count: 12))
        #expect(fields[Self.destPort] == [0x1f, 0x90])              // 8080, network order
        #expect(fields[Self.destFamily] == [2, 0])
        #expect(fields[Self.destFwd].map { Self.u32($0) } == code)
        #expect(fields[Self.destWeight].map { Self.u32($0) } == 3)
        #expect(fields[Self.destUpper].map { Self.u32($0) } == 100)
        #expect(fields[Self.destLower].map { Self.u32($0) } == 10)
    }

    @Test func editingAndDeletingARealServer() throws {
        let destination = IPVSDestination(service: Self.web, address: "2001:db8::11", port: 80, forwarding: .tun, weight: 0)
        #expect(try Self.encode(.editDestination(destination)).command == Self.setDest)
        let delete = try Self.encode(.deleteDestination(destination))
        #expect(delete.command == Self.delDest)
        let fields = Self.attributes(try #require(delete.attributes[Self.attrDest])[...])
        #expect(fields[Self.destAddr] == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x11])
        #expect(fields[Self.destFamily] == [10, 0])
        #expect(fields[Self.destWeight] == nil && fields[Self.destFwd] == nil)
    }

    @Test func timeoutsAreTopLevelAttributes() throws {
        let message = try Self.encode(.setTimeouts(IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300)))
        #expect(message.command == Self.setConfig)
        #expect(message.attributes[Self.timeoutTCP].map { Self.u32($0) } == 900)
        #expect(message.attributes[Self.timeoutTCPFin].map { Self.u32($0) } == 120)
        #expect(message.attributes[Self.timeoutUDP].map { Self.u32($0) } == 300)
    }

    /// IPVS_CMD_FLUSH, acknowledged, with no attribute: what `ipvsadm -C` sends.
    @Test func aFlushIsTheBareFlushCommand() throws {
        let message = try Self.encode(.flush)
        #expect(message.command == Self.flush)
        #expect(message.flags == Self.request | Self.ack)
        #expect(message.attributes.isEmpty)
    }

    @Test func anAddressThatIsNotOneIsRefused() {
        let bad = IPVSServiceKey.address(.udp, address: "192.0.2.300", port: 53)
        #expect(throws: HostError.self) { try IPVSMessages.request(.deleteService(bad), family: 0x25, sequence: 1) }
    }
}
