internal import CNetlink
import Glibc

/// Sends many netlink requests a window at a time — every request of a window in one buffer and one
/// sendmsg — and reads what the kernel answers: an error for each refused request, which it always
/// sends, and an acknowledgement of the window's last request only. The kernel handles a sendmsg's
/// requests in order before the call returns and queues its answers in that order, so once the last
/// one's acknowledgement is read every refusal before it has been too, and a thousand changes cost a
/// few system calls and no acknowledgement for each. The kernel goes on past a refused request.
enum NetlinkBatch {
    /// Requests per sendmsg; their acknowledgements must fit the receive buffer.
    static let window = 256
    static let receiveBuffer: Int32 = 1 << 20

    /// Sizes the socket for a window of acknowledgements, turns off libnl's sequence check (the
    /// batch reader matches sequence numbers itself) and bounds every wait.
    static func prepare(_ socket: OpaquePointer, _ what: String) throws {
        let rc = nl_socket_set_buffer_size(socket, receiveBuffer, receiveBuffer)
        if rc < 0 { throw RouteSocket.error(rc, "sizing", "the \(what) socket buffers") }
        nl_socket_disable_seq_check(socket)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends `count` requests made by `message(index, sequence)` and returns the first refused one:
    /// its index and errno.
    static func send(_ socket: OpaquePointer, count: Int, what: String,
                     message: (Int, UInt32) throws -> [UInt8]) throws -> (index: Int, errno: Int32)? {
        try sendAppending(socket, count: count, what: what) { index, sequence, buffer in
            let bytes = try message(index, sequence)
            buffer += bytes
            buffer.append(contentsOf: repeatElement(0, count: (4 - bytes.count % 4) % 4))
        }
    }

    /// The same, with each request appended by `append(index, sequence, &buffer)` straight into the
    /// window's buffer (4-byte aligned).
    static func sendAppending(_ socket: OpaquePointer, count: Int, what: String,
                              append: (Int, UInt32, inout [UInt8]) throws -> Void) throws -> (index: Int, errno: Int32)? {
        var firstFailure: (Int, Int32)?
        var buffer: [UInt8] = []
        var start = 0
        while start < count {
            let end = min(start + window, count)
            if let failure = try sendWindow(socket, start..<end, what: what, buffer: &buffer, append: append), firstFailure == nil {
                firstFailure = failure
            }
            start = end
        }
        return firstFailure
    }

    private static func sendWindow(_ socket: OpaquePointer, _ range: Range<Int>, what: String, buffer: inout [UInt8],
                                   append: (Int, UInt32, inout [UInt8]) throws -> Void) throws -> (Int, Int32)? {
        buffer.removeAll(keepingCapacity: true)
        // A window's sequence numbers are consecutive: a request's index is its distance from the first.
        let firstSequence = nl_socket_use_seq(socket)
        var lastRequest = 0
        for index in range {
            let sequence = index == range.lowerBound ? firstSequence : nl_socket_use_seq(socket)
            guard sequence == firstSequence &+ UInt32(index - range.lowerBound) else {
                throw HostError(operation: "numbering", subject: "\(range.count) \(what) requests", errno: EPROTO)
            }
            lastRequest = buffer.count
            try append(index, sequence, &buffer)
            setAcknowledgement(&buffer, at: lastRequest, index == range.upperBound - 1)
        }
        let sent = buffer.withUnsafeMutableBytes { nl_sendto(socket, $0.baseAddress, $0.count) }
        if sent < 0 { throw RouteSocket.error(sent, "sending", "\(range.count) \(what) requests") }

        var firstFailure: (Int, Int32)?
        let lastSequence = firstSequence &+ UInt32(range.count - 1)
        var receive = [UInt8](repeating: 0, count: 65536)
        let fd = nl_socket_get_fd(socket)
        while true {
            let count = recv(fd, &receive, receive.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                throw HostError(operation: "waiting for the kernel's answer to", subject: "\(range.count) \(what) requests", errno: errno)
            }
            var lastAnswered = false
            for (sequence, code) in acknowledgements(receive[0..<count]) {
                let offset = Int(sequence &- firstSequence)
                guard offset < range.count else { continue }
                if code != 0 && firstFailure == nil { firstFailure = (range.lowerBound + offset, -code) }
                if sequence == lastSequence { lastAnswered = true }
            }
            if lastAnswered { return firstFailure }
        }
    }

    /// Sets or clears NLM_F_ACK in the request that starts at `start` (its flags follow the 4-byte length
    /// and the 2-byte type). Without it the kernel still answers the request if it refuses it.
    private static func setAcknowledgement(_ buffer: inout [UInt8], at start: Int, _ asked: Bool) {
        if asked { buffer[start + 6] |= UInt8(NLM_F_ACK) } else { buffer[start + 6] &= ~UInt8(NLM_F_ACK) }
    }

    /// (sequence, error) of each NLMSG_ERROR in a datagram; error 0 is a plain acknowledgement.
    static func acknowledgements(_ bytes: ArraySlice<UInt8>) -> [(UInt32, Int32)] {
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

    /// The bytes of a libnl message, as the kernel will read them.
    static func bytes(of message: OpaquePointer) -> [UInt8] {
        let header = nlmsg_hdr(message)!
        return Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: Int(header.pointee.nlmsg_len)))
    }
}
