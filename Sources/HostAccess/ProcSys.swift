import Glibc

/// `SysctlControl` through /proc/sys of the calling process's network namespace.
public final class ProcSys: SysctlControl {
    private let base: String

    /// `base` is /proc/sys on a host; only a test points it elsewhere.
    public init(base: String = "/proc/sys") { self.base = base }

    public func read(_ key: SysctlKey) throws -> String {
        let path = "\(base)/\(key.path)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HostError(operation: "reading", subject: "sysctl \(key)", errno: errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = Glibc.read(fd, &buffer, buffer.count)
        guard count >= 0 else { throw HostError(operation: "reading", subject: "sysctl \(key)", errno: errno) }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return text.trimmingWhitespace()
    }

    public func write(_ key: SysctlKey, _ value: String) throws {
        let path = "\(base)/\(key.path)"
        let subject = "sysctl \(key) = \(value)"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HostError(operation: "writing", subject: subject, errno: errno) }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let written = Glibc.write(fd, bytes, bytes.count)
        guard written == bytes.count else {
            throw HostError(operation: "writing", subject: subject, errno: written < 0 ? errno : EIO)
        }
    }
}

extension String {
    /// Leading and trailing spaces, tabs and newlines removed; /proc/sys separates multi-value entries with tabs.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
