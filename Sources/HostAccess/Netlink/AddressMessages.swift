internal import CNetlink
import Glibc

/// The rtnetlink address messages, written and read as bytes in the layout of the kernel's uapi
/// (`linux/netlink.h`, `linux/if_addr.h`): the same requests libnl-route's `rtnl_addr_build_*_request`
/// makes, without a libnl object, a parsed `nl_addr` and a copied message per address — for a thousand
/// VIPs that was most of what sending them cost.
public enum AddressMessages {
    /// `struct nlmsghdr` + `struct ifaddrmsg`.
    static let headerSize = 16, ifaddrmsgSize = 8

    /// RTM_NEWADDR (NLM_F_CREATE | NLM_F_EXCL: an address already there is refused, not adopted) or
    /// RTM_DELADDR, with an acknowledgement: ifaddrmsg, IFA_LOCAL and IFA_ADDRESS (the same address,
    /// as libnl sends for an address without a peer), and IFA_LABEL for a labelled IPv4 address.
    /// Appended to `buffer` (4-byte aligned, as netlink wants messages one after another).
    public static func appendRequest(_ operation: AddressOperation, interfaceIndex: Int32, sequence: UInt32, port: UInt32,
                                     to buffer: inout [UInt8]) throws {
        let (address, adding) = switch operation {
        case .add(let address): (address, true)
        case .remove(let address): (address, false)
        }
        var raw = in6_addr()
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let size = family == AF_INET ? 4 : 16
        guard inet_pton(family, address.address, &raw) == 1, (0...(size * 8)).contains(address.prefixLength) else {
            throw HostError(operation: adding ? "adding" : "removing", subject: "\(address.cidr) on \(address.interface)", errno: EINVAL)
        }
        let start = buffer.count
        let flags = NLM_F_REQUEST | NLM_F_ACK | (adding ? NLM_F_CREATE | NLM_F_EXCL : 0)
        append32(&buffer, 0)   // nlmsg_len, filled in below
        append16(&buffer, UInt16(adding ? RTM_NEWADDR : RTM_DELADDR))
        append16(&buffer, UInt16(flags))
        append32(&buffer, sequence)
        append32(&buffer, port)
        // ifaddrmsg: family, prefix length, flags, scope (libnl's: host for 127/8, else universe), index.
        let isLoopback = family == AF_INET && withUnsafeBytes(of: raw) { $0[0] } == 127
        // Byte by byte, no array literal or copied label: a thousand requests a run.
        buffer.append(UInt8(family))
        buffer.append(UInt8(address.prefixLength))
        buffer.append(0)
        buffer.append(UInt8(isLoopback ? RT_SCOPE_HOST.rawValue : RT_SCOPE_UNIVERSE.rawValue))
        append32(&buffer, UInt32(bitPattern: interfaceIndex))
        withUnsafeBytes(of: raw) { bytes in
            appendAttribute(&buffer, UInt16(IFA_LOCAL), UnsafeRawBufferPointer(rebasing: bytes[0..<size]))
            appendAttribute(&buffer, UInt16(IFA_ADDRESS), UnsafeRawBufferPointer(rebasing: bytes[0..<size]))
        }
        if family == AF_INET, var label = address.label {
            // NUL-terminated, as the kernel's IFA_LABEL is a C string.
            label.withUTF8 { appendAttribute(&buffer, UInt16(IFA_LABEL), UnsafeRawBufferPointer($0), terminated: true) }
        }
        let length = UInt32(buffer.count - start)
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: start, as: UInt32.self) }
    }

    /// An RTM_GETADDR dump of every family.
    static func dumpRequest(sequence: UInt32, port: UInt32) -> [UInt8] {
        var buffer: [UInt8] = []
        append32(&buffer, UInt32(headerSize + ifaddrmsgSize))
        append16(&buffer, UInt16(RTM_GETADDR))
        append16(&buffer, UInt16(NLM_F_REQUEST | NLM_F_DUMP))
        append32(&buffer, sequence)
        append32(&buffer, port)
        buffer += [UInt8](repeating: 0, count: ifaddrmsgSize)   // AF_UNSPEC: every family
        return buffer
    }

    /// What one datagram of a dump holds: the addresses it carries, whether it ended the dump, the
    /// kernel's error if it sent one, and whether the kernel says the dump was interrupted by a change.
    struct DumpPart {
        var addresses: [(index: Int32, address: InterfaceAddress)] = []
        var done = false
        var error: Int32 = 0
        var interrupted = false
    }

    /// Reads the RTM_NEWADDR messages of one dump datagram. The local address is IFA_LOCAL, or
    /// IFA_ADDRESS where there is none (IPv6), as libnl reads it; the interface is named later.
    static func parseDump(_ bytes: UnsafeRawBufferPointer, sequence: UInt32) -> DumpPart {
        var part = DumpPart()
        var offset = 0
        while offset + headerSize <= bytes.count {
            let length = Int(u32(bytes, offset))
            let type = u16(bytes, offset + 4)
            let flags = u16(bytes, offset + 6)
            guard length >= headerSize, offset + length <= bytes.count else { break }
            defer { offset += (length + 3) & ~3 }
            guard u32(bytes, offset + 8) == sequence else { continue }
            if flags & UInt16(NLM_F_DUMP_INTR) != 0 { part.interrupted = true }
            switch Int32(type) {
            case Int32(NLMSG_DONE): part.done = true
            case Int32(NLMSG_ERROR):
                part.error = length >= headerSize + 4 ? Int32(bitPattern: u32(bytes, offset + headerSize)) : -EPROTO
                part.done = true
            case Int32(RTM_NEWADDR):
                if let entry = address(UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<(offset + length)])) {
                    part.addresses.append(entry)
                }
            default: break
            }
        }
        return part
    }

    private static func address(_ body: UnsafeRawBufferPointer) -> (index: Int32, address: InterfaceAddress)? {
        guard body.count >= ifaddrmsgSize else { return nil }
        let family = Int32(body[0])
        guard family == AF_INET || family == AF_INET6 else { return nil }
        let size = family == AF_INET ? 4 : 16
        var local: UnsafeRawBufferPointer?, peer: UnsafeRawBufferPointer?, label: String?
        var offset = ifaddrmsgSize
        while offset + 4 <= body.count {
            let length = Int(u16(body, offset)), type = Int32(u16(body, offset + 2) & 0x3fff)
            guard length >= 4, offset + length <= body.count else { break }
            let payload = UnsafeRawBufferPointer(rebasing: body[(offset + 4)..<(offset + length)])
            switch type {
            case Int32(IFA_LOCAL) where payload.count == size: local = payload
            case Int32(IFA_ADDRESS) where payload.count == size: peer = payload
            case Int32(IFA_LABEL): label = String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
            default: break
            }
            offset += (length + 3) & ~3
        }
        guard let bytes = local ?? peer, let text = text(family, bytes) else { return nil }
        return (Int32(bitPattern: u32(body, 4)),
                InterfaceAddress(interface: "", address: text, prefixLength: Int(body[1]), label: family == AF_INET ? label : nil))
    }

    /// inet_ntop's text: IPv4 written here (glibc formats it with sprintf, a thousand times a run),
    /// IPv6 by inet_ntop itself.
    static func text(_ family: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
        if family == AF_INET {
            var out: [UInt8] = []
            out.reserveCapacity(15)
            for (position, byte) in bytes.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ".")) }
                if byte >= 100 { out.append(48 + byte / 100) }
                if byte >= 10 { out.append(48 + byte / 10 % 10) }
                out.append(48 + byte % 10)
            }
            return String(decoding: out, as: UTF8.self)
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes.baseAddress, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// `terminated`: a NUL follows the payload (counted in the length).
    private static func appendAttribute(_ buffer: inout [UInt8], _ type: UInt16, _ payload: UnsafeRawBufferPointer,
                                        terminated: Bool = false) {
        let count = payload.count + (terminated ? 1 : 0)
        append16(&buffer, UInt16(4 + count))
        append16(&buffer, type)
        buffer.append(contentsOf: payload)
        if terminated { buffer.append(0) }
        for _ in 0..<((4 - count % 4) % 4) { buffer.append(0) }
    }

    // Host byte order, as netlink has it.
    private static func append16(_ buffer: inout [UInt8], _ value: UInt16) {
        withUnsafeBytes(of: value) { buffer.append(contentsOf: $0) }
    }

    private static func append32(_ buffer: inout [UInt8], _ value: UInt32) {
        withUnsafeBytes(of: value) { buffer.append(contentsOf: $0) }
    }

    private static func u16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self) }
    private static func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
}
