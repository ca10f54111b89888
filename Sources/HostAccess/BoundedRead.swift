import Glibc

/// Reads input files (specs, user-data, role and template overrides) so that no path can make a run
/// block or grow without bound: only a regular file is read, never a FIFO, socket or device, and
/// never more than a stated number of bytes.
public enum BoundedRead {
    /// 16 MiB: a director spec of 10,000 services is a few MB.
    public static let inputLimit = 16 << 20

    /// Why an input file was not read, as a sentence that says what to give instead.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// The bytes of the regular file at `path`, or nil when nothing is there. `followSymlink`: whether
    /// a symlink as the last component is followed (an operator's own path) or refused (under the root).
    public static func regularFile(_ path: String, limit: Int = inputLimit, followSymlink: Bool) throws -> [UInt8]? {
        // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one;
        // fstat then refuses it.
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (followSymlink ? 0 : O_NOFOLLOW)
        let fd = open(path, flags)
        if fd < 0 {
            let error = errno
            if error == ENOENT { return nil }
            if error == ELOOP && !followSymlink {
                throw Refusal(path: path, reason: "this is a symbolic link; lvs-node reads only regular files here, never through a link")
            }
            throw Refusal(path: path, reason: "cannot open it: \(String(cString: strerror(error)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw Refusal(path: path, reason: "cannot inspect it: \(String(cString: strerror(errno)))")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            throw Refusal(path: path, reason: "this is \(describe(type)), not a regular file; give a file")
        }
        let tooLarge = "it is larger than \(limit) bytes, the most lvs-node reads from one input file"
        if Int(info.st_size) > limit { throw Refusal(path: path, reason: tooLarge) }
        // Read one byte past the limit so a file that grows while it is read is refused too.
        var bytes = [UInt8](repeating: 0, count: min(Int(info.st_size), limit) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                if count > limit { throw Refusal(path: path, reason: tooLarge) }
                bytes.append(contentsOf: repeatElement(0, count: min(count, limit + 1 - count)))
            }
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Refusal(path: path, reason: "cannot read it: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            count += got
        }
        if count > limit { throw Refusal(path: path, reason: tooLarge) }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Standard input to its end (`--config -`), refused past `limit` bytes.
    public static func standardInput(limit: Int = inputLimit) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = read(0, &chunk, chunk.count)
            if got < 0 {
                if errno == EINTR { continue }
                throw Refusal(path: "standard input", reason: "cannot read it: \(String(cString: strerror(errno)))")
            }
            if got == 0 { return bytes }
            guard bytes.count + got <= limit else {
                throw Refusal(path: "standard input", reason: "it holds more than \(limit) bytes, the most lvs-node reads from one input")
            }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }

    private static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe), which could block for ever"
        case S_IFCHR: return "a character device, which could be endless"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}
