import CZlib

/// gzip (RFC 1952) decompression through zlib, as cloud-init decompresses user-data whose first
/// bytes are gzip's magic 1f 8b. Bounded: output past `maximumOutput` is refused as soon as it is
/// produced, so a gzip bomb costs at most that much memory and the time to inflate it.
public enum Gzip {
    /// The same 16 MiB as any input lvs-node reads.
    public static let maximumOutput = 16 << 20

    public struct Failure: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Whether `bytes` start with gzip's magic number.
    public static func isCompressed(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.starts(with: [0x1f, 0x8b])
    }

    /// The decompressed bytes of every member (`cat a.gz b.gz` is one valid stream, as gzip(1) reads it).
    public static func decompress(_ input: [UInt8], limit: Int = maximumOutput) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: the largest window, gzip header and trailer (with its CRC) checked.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(reason: "zlib could not start decompressing")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= limit else {
                    throw Failure(reason: "it decompresses to more than \(limit / (1 << 20)) MiB, more than any user-data lvs-node reads")
                }
                output += chunk[..<produced]
                switch status {
                case Z_STREAM_END:
                    // Another member may follow; anything else after the last one is refused by inflate.
                    guard stream.avail_in > 0 else { return }
                    guard inflateReset(&stream) == Z_OK else { throw Failure(reason: "zlib could not read the next gzip member") }
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 { throw Failure(reason: "the gzip data is cut short") }
                case Z_BUF_ERROR:
                    throw Failure(reason: "the gzip data is cut short")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw Failure(reason: "the gzip data is damaged (\(message))")
                }
            }
        }
        return output
    }
}
