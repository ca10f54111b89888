import Glibc

/// Runs a configuration's own checker (`keepalived -t -f FILE`) on text before it replaces the file in
/// use: the text goes to a private temporary file whose path replaces `{file}` in the arguments.
public enum ConfigCheck {
    public struct Failure: Error, CustomStringConvertible {
        /// The checker as the user would run it on the target file (`/usr/sbin/keepalived -t -f /etc/keepalived/keepalived.conf`).
        public let command: String
        /// What it said, indented, with the target path for the temporary one.
        public let output: String
        public var description: String { "\(command) refused it:\n\(output)" }
    }

    /// Throws `Failure` with the checker's output when it exits non-zero, `MissingKernelFeature`
    /// when the checker is not installed. `target`: the path the text is for, shown in place of the
    /// temporary file in the command and the checker's output.
    public static func check(_ content: String, program: String, arguments: [String], needed: String, target: String? = nil) throws {
        guard access(program, X_OK) == 0 else {
            throw MissingKernelFeature(feature: program, needed: needed)
        }
        var template = Array("/tmp/lvs-node-check.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw HostError(operation: "creating", subject: "a temporary file to check \(needed)", errno: errno) }
        let path = String(cString: template)
        defer { unlink(path) }
        let bytes = Array(content.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw HostError(operation: "writing", subject: path, errno: errno) }
        let filled = arguments.map { $0 == "{file}" ? path : $0 }
        let result = try ProcessRunner.run(program, filled, input: nil)
        if result.status != 0 {
            let shown = target ?? path
            let output = (result.output + result.error).split(separator: "\n")
                .map { "  " + replacing(path, with: shown, in: String($0)) }.joined(separator: "\n")
            throw Failure(command: ([program] + arguments.map { $0 == "{file}" ? shown : $0 }).joined(separator: " "), output: output)
        }
    }

    private static func replacing(_ text: String, with replacement: String, in line: String) -> String {
        line.split(separator: text, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
