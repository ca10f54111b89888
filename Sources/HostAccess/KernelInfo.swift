import Glibc

/// What the running kernel is: its release (uname) and its loaded modules' parameters (/sys/module).
/// Both are the kernel's, not the root's: `--root` never applies.
public enum KernelInfo {
    /// `6.1.0-26-amd64`, as uname(2) gives it.
    public static func release() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "" }
        return withUnsafeBytes(of: &names.release) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The leading numbers of a release: `5.10.0-26-amd64` → [5, 10, 0]; [] when it has none.
    public static func version(_ release: String) -> [Int] {
        var numbers: [Int] = []
        for part in release.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false) {
            let digits = part.prefix { $0.isASCII && $0.isNumber }
            guard let number = Int(digits), digits.count <= 6 else { break }
            numbers.append(number)
            if digits.count != part.count { break }
        }
        return numbers
    }

    /// Whether `release` is older than `version` (`"5.9"`), comparing number by number; an
    /// unreadable release is not older (the kernel's defaults are then kept as for a current one).
    public static func isOlder(_ release: String, than version: String) -> Bool {
        let running = self.version(release)
        guard !running.isEmpty else { return false }
        let wanted = self.version(version)
        for index in 0..<max(running.count, wanted.count) {
            let a = index < running.count ? running[index] : 0
            let b = index < wanted.count ? wanted[index] : 0
            if a != b { return a < b }
        }
        return false
    }

    /// A loaded module's parameter (`/sys/module/ip_vs/parameters/conn_tab_bits`), or nil when the
    /// module is not loaded or does not show it. `sys`: /sys on a host; only a test points it elsewhere.
    public static func moduleParameter(_ module: String, _ parameter: String, sys: String = "/sys") -> String? {
        guard !module.contains("/"), !parameter.contains("/") else { return nil }
        let fd = open("\(sys)/module/\(module)/parameters/\(parameter)", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingWhitespace()
    }
}
