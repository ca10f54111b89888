import Glibc

/// Whether this process may change network state, read from the effective capability set
/// (root in a user namespace has CAP_NET_ADMIN without uid 0, and uid 0 can lack it).
public enum Privileges {
    private static let capNetAdmin = 12

    public static func hasNetAdmin(statusPath: String = "/proc/self/status") -> Bool {
        guard let file = fopen(statusPath, "r") else { return geteuid() == 0 }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = String(text.dropFirst("CapEff:".count)).trimmingWhitespace()
            guard let mask = UInt64(hex, radix: 16) else { return false }
            return mask & (1 << UInt64(capNetAdmin)) != 0
        }
        return geteuid() == 0
    }
}
