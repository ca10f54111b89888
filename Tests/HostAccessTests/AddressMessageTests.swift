import Glibc
import HostAccess
import Testing

/// The address requests lvs-node now writes by hand, read back with a parser written here from the
/// kernel's uapi (`linux/netlink.h`, `linux/rtnetlink.h`, `linux/if_addr.h`): the same fields libnl's
/// `rtnl_addr_build_add_request` / `_delete_request` sent before.
@Suite struct AddressMessageTests {
    // linux/rtnetlink.h, linux/netlink.h, linux/if_addr.h
    static let newAddress: UInt16 = 20, deleteAddress: UInt16 = 21
    static let request: UInt16 = 0x1, ack: UInt16 = 0x4, excl: UInt16 = 0x200, create: UInt16 = 0x400
    static let ifaAddress: UInt16 = 1, ifaLocal: UInt16 = 2, ifaLabel: UInt16 = 3

    struct Message {
        let length: Int, type: UInt16, flags: UInt16, sequence: UInt32, port: UInt32
        let family: UInt8, prefixLength: UInt8, ifaFlags: UInt8, scope: UInt8, index: UInt32
        let attributes: [UInt16: [UInt8]]
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    static func parse(_ bytes: [UInt8]) -> Message {
        var attributes: [UInt16: [UInt8]] = [:]
        var offset = 24   // nlmsghdr (16) + ifaddrmsg (8)
        while offset + 4 <= bytes.count {
            let length = Int(u16(bytes, offset))
            #expect(length >= 4 && offset + length <= bytes.count)
            attributes[u16(bytes, offset + 2)] = Array(bytes[(offset + 4)..<(offset + length)])
            offset += (length + 3) & ~3
        }
        #expect(offset == bytes.count, "attributes end where the message ends, 4-byte aligned")
        return Message(length: Int(u32(bytes, 0)), type: u16(bytes, 4), flags: u16(bytes, 6), sequence: u32(bytes, 8),
                       port: u32(bytes, 12), family: bytes[16], prefixLength: bytes[17], ifaFlags: bytes[18], scope: bytes[19],
                       index: u32(bytes, 20), attributes: attributes)
    }

    static func encode(_ operation: AddressOperation, index: Int32 = 1) throws -> (bytes: [UInt8], message: Message) {
        var buffer: [UInt8] = []
        try AddressMessages.appendRequest(operation, interfaceIndex: index, sequence: 77, port: 4242, to: &buffer)
        return (buffer, parse(buffer))
    }

    @Test func addingALabelledIPv4AddressIsTheRequestLibnlMade() throws {
        let (bytes, message) = try Self.encode(.add(InterfaceAddress(interface: "lo", address: "198.51.100.7", prefixLength: 32, label: "lo:12")))
        #expect(message.length == bytes.count && bytes.count % 4 == 0)
        #expect(message.type == Self.newAddress)
        #expect(message.flags == Self.request | Self.ack | Self.create | Self.excl, "an address already there is refused, not adopted")
        #expect(message.sequence == 77 && message.port == 4242)
        #expect(message.family == UInt8(AF_INET) && message.prefixLength == 32 && message.ifaFlags == 0)
        #expect(message.scope == 0, "RT_SCOPE_UNIVERSE")
        #expect(message.index == 1)
        #expect(message.attributes[Self.ifaLocal] == [198, 51, 100, 7])
        #expect(message.attributes[Self.ifaAddress] == [198, 51, 100, 7])
        #expect(message.attributes[Self.ifaLabel] == Array("lo:12".utf8) + [0])
        #expect(bytes.count == 52, "the size strace showed for libnl's request (a label of up to seven bytes pads to 12)")
    }

    @Test func removingAnIPv6AddressCarriesNoLabelAndNoCreateFlags() throws {
        let (_, message) = try Self.encode(.remove(InterfaceAddress(interface: "eth0", address: "2001:db8::10", prefixLength: 128, label: "eth0:0")),
                                           index: 7)
        #expect(message.type == Self.deleteAddress)
        #expect(message.flags == Self.request | Self.ack)
        #expect(message.family == UInt8(AF_INET6) && message.prefixLength == 128 && message.index == 7)
        let expected: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x10]
        #expect(message.attributes[Self.ifaLocal] == expected && message.attributes[Self.ifaAddress] == expected)
        #expect(message.attributes[Self.ifaLabel] == nil, "IPv6 has no labels")
        #expect(message.length == 64)
    }

    @Test func aLoopbackAddressGetsHostScopeAsLibnlGaveIt() throws {
        let (_, message) = try Self.encode(.add(InterfaceAddress(interface: "lo", address: "127.0.0.2", prefixLength: 8)))
        #expect(message.scope == 254, "RT_SCOPE_HOST")
        #expect(message.attributes[Self.ifaLabel] == nil)
    }

    @Test func requestsFollowOneAnotherAlignedInOneBuffer() throws {
        var buffer: [UInt8] = []
        for (sequence, label) in ["lo:0", "lo:10", "lo:100"].enumerated() {
            try AddressMessages.appendRequest(.add(InterfaceAddress(interface: "lo", address: "192.0.2.\(sequence + 1)", prefixLength: 32, label: label)),
                                              interfaceIndex: 1, sequence: UInt32(sequence), port: 1, to: &buffer)
        }
        var offset = 0, sequences: [UInt32] = []
        while offset < buffer.count {
            let message = Self.parse(Array(buffer[offset..<(offset + Int(Self.u32(buffer, offset)))]))
            sequences.append(message.sequence)
            offset += message.length
            #expect(offset % 4 == 0)
        }
        #expect(offset == buffer.count && sequences == [0, 1, 2])
    }

    @Test func anAddressThatIsNotOneIsRefusedBeforeAnythingIsSent() {
        var buffer: [UInt8] = []
        #expect(throws: HostError.self) {
            try AddressMessages.appendRequest(.add(InterfaceAddress(interface: "lo", address: "192.0.2.300", prefixLength: 32)),
                                              interfaceIndex: 1, sequence: 1, port: 1, to: &buffer)
        }
        #expect(throws: HostError.self) {
            try AddressMessages.appendRequest(.add(InterfaceAddress(interface: "lo", address: "192.0.2.3", prefixLength: 33)),
                                              interfaceIndex: 1, sequence: 1, port: 1, to: &buffer)
        }
    }
}
