/// The syntax of each free-text value that reaches a rendered file, checked when the spec is read:
/// the file's own consumer (`keepalived -t`, a shell sourcing ifcfg) is a second line, not the guard.
/// Each function returns why the value is refused, or nil when it is fine.
public enum ValueSyntax {
    /// An interface name as the kernel's `dev_valid_name` allows it (1–15 bytes, not `.` or `..`, no
    /// `/`, `:` or white space), narrowed to what is safe unquoted in every file it lands in:
    /// keepalived.conf (`interface eth0`, where `#`, `!`, `{`, `}`, `"` mean something), ifcfg files a
    /// shell sources (`DEVICE=eth0:0`), sysctl.d keys and netplan YAML.
    public static func interfaceNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "it is empty" }
        if bytes.count > maximumInterfaceName { return "it is \(bytes.count) bytes long; the kernel allows at most \(maximumInterfaceName)" }
        if name == "." || name == ".." { return "the kernel does not allow '.' or '..' as a name" }
        if let byte = bytes.first(where: { $0 == 0x2f || $0 == 0x3a || isSpaceOrControl($0) }) {
            return "the kernel does not allow \(describe(byte)) in a name"
        }
        if let byte = bytes.first(where: { !isLetterOrDigit($0) && !"._-".utf8.contains($0) }) {
            return "\(describe(byte)) would change the meaning of the files it is written into; use letters, digits, '.', '-' and '_'"
        }
        return nil
    }

    /// IFNAMSIZ - 1.
    public static let maximumInterfaceName = 15

    /// keepalived's `auth_pass`: one word of printable ASCII, none of keepalived's comment (`#`, `!`),
    /// block (`{`, `}`), quoting (`"`) or substitution (`$`, `\`) characters. VRRP carries 8 bytes.
    public static func vrrpPasswordProblem(_ password: String) -> String? {
        let bytes = Array(password.utf8)
        if bytes.isEmpty || bytes.count > 8 { return "it must be 1 to 8 characters: VRRP carries only 8" }
        if let byte = bytes.first(where: { !isPrintableASCII($0) || keepalivedSpecial.utf8.contains($0) }) {
            return "\(describe(byte)) is not allowed: keepalived would read it as the end of the password, a comment or a block; use printable ASCII without spaces or \(keepalivedSpecialList)"
        }
        return nil
    }

    /// An HTTP check's URL path in keepalived.conf (`path /health`): starts with `/`, printable ASCII
    /// without spaces or keepalived's special characters (percent-encode them), at most 512 bytes.
    public static func httpPathProblem(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        if bytes.first != 0x2f { return "a URL path starts with '/', e.g. /health" }
        if bytes.count > 512 { return "it is \(bytes.count) bytes long; keep it to 512" }
        if let byte = bytes.first(where: { !isPrintableASCII($0) || keepalivedSpecial.utf8.contains($0) }) {
            return "\(describe(byte)) is not allowed in it: keepalived would read it as the end of the path, a comment or a block; percent-encode it (e.g. %23 for #)"
        }
        return nil
    }

    /// A mail address in keepalived.conf (`notification_email`, `notification_email_from`):
    /// `local@domain`, the local part of letters, digits and `.` `_` `%` `+` `-`, the domain a host name.
    /// Narrower than RFC 5322 on purpose: nothing keepalived reads as a comment, block or quote.
    public static func emailProblem(_ address: String) -> String? {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return "it is not local@domain, e.g. ops@example.com" }
        let local = Array(parts[0].utf8)
        if local.count > 64 { return "its local part is \(local.count) bytes long; mail allows at most 64" }
        if let byte = local.first(where: { !isLetterOrDigit($0) && !"._%+-".utf8.contains($0) }) {
            return "\(describe(byte)) is not allowed before the @; use letters, digits, '.', '_', '%', '+' and '-'"
        }
        if let problem = hostNameProblem(String(parts[1])) { return "its domain is not a host name: \(problem)" }
        return nil
    }

    /// A DNS host name (`smtp.example.com`): labels of letters, digits and `-` (not at either end),
    /// 1-63 bytes each, at most 253 in all.
    public static func hostNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 253 { return "it must be 1 to 253 characters" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            let labelBytes = Array(label.utf8)
            if labelBytes.isEmpty || labelBytes.count > 63 { return "each dot-separated part must be 1 to 63 characters" }
            if let byte = labelBytes.first(where: { !isLetterOrDigit($0) && $0 != 0x2d }) {
                return "\(describe(byte)) is not allowed; use letters, digits, '-' and '.'"
            }
            if labelBytes.first == 0x2d || labelBytes.last == 0x2d { return "a part may not start or end with '-'" }
        }
        return nil
    }

    /// A program keepalived runs (`notify_master /usr/local/sbin/on-master`): an absolute path of
    /// letters, digits and `/` `.` `_` `+` `-`, without `.` or `..` components, at most 1024 bytes.
    /// keepalived splits the value on spaces into program and arguments, so no spaces: a script
    /// that needs arguments is a wrapper.
    public static func scriptPathProblem(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        if bytes.first != 0x2f { return "it must be an absolute path, e.g. /usr/local/sbin/notify-ops" }
        if bytes.count > 1024 { return "it is \(bytes.count) bytes long; keep it to 1024" }
        if let byte = bytes.first(where: { !isLetterOrDigit($0) && !"/._+-".utf8.contains($0) }) {
            return "\(describe(byte)) is not allowed; use letters, digits, '/', '.', '_', '+' and '-' (a script that needs arguments is a wrapper)"
        }
        if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) || path.hasSuffix("/") {
            return "it must name a file directly, without '.', '..' or a trailing '/'"
        }
        return nil
    }

    /// A user name (`script_user keepalived_script`) as useradd's default NAME_REGEX allows it:
    /// `[a-z_][a-z0-9_-]*`, at most 32 bytes (no trailing `$`: keepalived reads it as a variable).
    public static func userNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 32 { return "it must be 1 to 32 characters" }
        if let first = bytes.first, !(0x61...0x7a).contains(first) && first != 0x5f {
            return "it must start with a lower-case letter or '_'"
        }
        if let byte = bytes.first(where: { !(0x61...0x7a).contains($0) && !(0x30...0x39).contains($0) && $0 != 0x5f && $0 != 0x2d }) {
            return "\(describe(byte)) is not allowed; use lower-case letters, digits, '_' and '-'"
        }
        return nil
    }

    /// A role or mode name: it lands in comments, file and unit names (`lvs-node-realserver`).
    public static func identifierProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 64 { return "it must be 1 to 64 characters" }
        if let byte = bytes.first(where: { !isLetterOrDigit($0) && $0 != 0x2d && $0 != 0x5f }) {
            return "\(describe(byte)) is not allowed; use letters, digits, '-' and '_'"
        }
        return nil
    }

    private static let keepalivedSpecial = "#!{}\"$\\"
    private static let keepalivedSpecialList = "# ! { } \" $ \\"

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }

    /// Visible ASCII: no space, no control character, nothing beyond ASCII.
    private static func isPrintableASCII(_ byte: UInt8) -> Bool { (0x21...0x7e).contains(byte) }

    /// The kernel's `isspace` (space, \t \n \v \f \r) and every other control character.
    private static func isSpaceOrControl(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x7f }

    /// How to name a byte in a message: control characters and spaces are invisible as themselves.
    private static func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x20: return "a space"
        case 0x09: return "a tab"
        case 0x0a: return "a line break"
        case 0x0d: return "a carriage return"
        case 0x00..<0x20, 0x7f: return "the control character 0x" + String(byte, radix: 16, uppercase: true)
        case 0x80...: return "a character beyond ASCII"
        default: return "'" + String(UnicodeScalar(byte)) + "'"
        }
    }
}
