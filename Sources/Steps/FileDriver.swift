import Engine
import Glibc
import HostAccess
import NodeModel
import Render

/// Files and symlinks under the root. Subject: the path as on the host (`/etc/netplan/60-lvs-node.yaml`);
/// state: `file MODE` and the content on the next line (`file MODE hex` when it is not UTF-8, so any
/// file lvs-node replaces comes back byte for byte), or `link TARGET`. Every path is resolved beneath
/// the root without following a link on the way (`HostRoot`'s `BeneathRoot` operations).
public final class FileDriver: Driver {
    public static let kindName = "file"
    public var kind: String { Self.kindName }
    public var persistsAcrossReboot: Bool { true }
    private let root: HostRoot

    public init(root: HostRoot) { self.root = root }

    public static func fileState(mode: mode_t, content: String) -> String { "file \(octal(mode))\n\(content)" }
    public static func linkState(target: String) -> String { "link \(target)" }
    /// The state of something at a path that is neither a file nor a link: `other a FIFO`.
    static let otherPrefix = "other "
    /// The state of a file that is not there and whose directory was not either: `absent below
    /// /etc/sysconfig` (the topmost directory missing). Putting it back removes the file and then the
    /// directories, as far as that one, that are empty: rollback leaves no directory lvs-node made.
    static let absentPrefix = "absent below "

    public func isAbsent(_ state: String?) -> Bool { Self.isAbsent(state) }
    public static func isAbsent(_ state: String?) -> Bool { state.map { $0.hasPrefix(absentPrefix) } ?? true }

    /// `absent below DIR` when the file's directory is missing too (DIR the topmost missing one), else nil.
    private func absence(of subject: String) throws -> String? {
        var missing: String?
        var directory = DurableFiles.parent(of: subject)
        while directory != "/" && directory != "." && (try? root.inspect(directory)) == .some(nil) {
            missing = directory
            directory = DurableFiles.parent(of: directory)
        }
        return missing.map { Self.absentPrefix + $0 }
    }

    public func read(_ subjects: [String]) throws -> [String?] {
        try subjects.map { subject in
            let entry: DurableFiles.Entry?
            do {
                entry = try root.inspect(subject)
            } catch let error as HostError where error.code == .errno(EACCES) {
                // A 0600 file read by a user other than root (status run by monitoring).
                return PrivateState.unreadable
            }
            switch entry {
            case nil: return try absence(of: subject)
            case .file(let mode, let bytes)?:
                if let text = String(validating: bytes, as: UTF8.self) { return Self.fileState(mode: mode, content: text) }
                return "file \(Self.octal(mode)) hex\n" + bytes.map { Self.hex($0) }.joined()
            case .symlink(let target)?: return Self.linkState(target: target)
            case .other(let what)?: return Self.otherPrefix + what
            }
        }
    }

    public func write(_ changes: [Change]) throws { try forEachChange(changes, write) }

    private func write(_ change: Change) throws {
        guard let after = change.after, !after.hasPrefix(Self.absentPrefix) else {
            if case .other(let what)? = try root.inspect(change.subject) {
                throw HostError(operation: "refusing to remove", subject: "\(change.subject), which is \(what)", errno: EISDIR)
            }
            try root.remove(change.subject)
            if let after = change.after { try removeEmptyDirectories(from: DurableFiles.parent(of: change.subject), upTo: String(after.dropFirst(Self.absentPrefix.count))) }
            return
        }
        switch try State(after) {
        case .file(let mode, let bytes):
            if case .symlink? = try root.inspect(change.subject) { try root.remove(change.subject) }
            try root.writeAtomically(change.subject, bytes, mode: mode)
        case .link(let target):
            try root.placeSymlink(change.subject, target: target)
        }
    }

    /// The empty directories from `directory` up to and including `top` (those lvs-node made).
    private func removeEmptyDirectories(from directory: String, upTo top: String) throws {
        var current = directory
        while current.hasPrefix(top) && current != "/" {
            guard try root.removeEmptyDirectory(current) else { return }
            if current == top { return }
            current = DurableFiles.parent(of: current)
        }
    }

    /// `--force` replaces only what rollback can put back byte for byte: a regular file or a symlink.
    /// A directory, FIFO, socket or device at a target path is refused at plan time, before any change.
    public func refuse(_ changes: [Change]) throws {
        let refused = changes.compactMap { change -> SpecError? in
            guard let before = change.before, before.hasPrefix(Self.otherPrefix) else { return nil }
            let what = before.dropFirst(Self.otherPrefix.count)
            return SpecError(root.path(change.subject), "is \(what), which lvs-node cannot put back as it was; it replaces only "
                             + "regular files and symlinks, even with --force. Move it away first")
        }
        if !refused.isEmpty { throw SpecErrors(refused) }
    }

    /// Removes the temporary files an interrupted write of these subjects left (never following a link).
    public func discardDebris(_ subjects: [String]) throws {
        for subject in subjects { try root.removeTemporary(of: subject) }
    }

    public func describe(_ change: Change) -> String {
        func what(_ state: String?) -> String {
            if state == PrivateState.unreadable { return "readable by root only" }
            guard let state, let parsed = try? State(state) else { return "" }
            switch parsed {
            case .file(let mode, _): return "mode \(Self.octal(mode))"
            case .link(let target): return "→ \(target)"
            }
        }
        switch (isAbsent(change.before) ? nil : change.before, isAbsent(change.after) ? nil : change.after) {
        case let (before?, after?):
            let (old, new) = (what(before), what(after))
            return old == new ? "file \(change.subject) (\(new))" : "file \(change.subject) \(old) → \(new)"
        case let (nil, after?): return "file \(change.subject) (\(what(after)))"
        case let (before?, nil): return "file \(change.subject) (\(what(before)))"
        case (nil, nil): return "file \(change.subject)"
        }
    }

    /// A file only its owner may read is kept in the generation's private directory.
    public func isPrivate(_ state: String) -> Bool {
        guard state.hasPrefix("file "), case .file(let mode, _)? = try? State(state) else { return false }
        return mode & 0o077 == 0
    }

    /// Keywords whose value is a secret, masked in every plan (plans end up in logs and tickets):
    /// keepalived's VRRP password, the only secret lvs-node writes.
    static let secretKeywords: Set<Substring> = ["auth_pass"]

    /// The content change as a unified diff, secret values masked.
    public func details(_ change: Change) -> [String] {
        if change.before == PrivateState.unreadable || change.after == PrivateState.unreadable {
            return ["(the content is readable by root only: run as root to see the diff)"]
        }
        func text(_ state: String?) -> String {
            guard let state, let newline = state.firstIndex(of: "\n"), state.hasPrefix("file ") else { return "" }
            return Self.maskingSecrets(String(state[state.index(after: newline)...]))
        }
        return UnifiedDiff.lines(from: text(change.before), to: text(change.after),
                                 oldName: isAbsent(change.before) ? "/dev/null" : "a\(change.subject)",
                                 newName: isAbsent(change.after) ? "/dev/null" : "b\(change.subject)")
    }

    /// `text` with the value of every `secretKeywords` line replaced by asterisks, indentation kept.
    static func maskingSecrets(_ text: String) -> String {
        guard text.contains("auth_pass") else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first, secretKeywords.contains(keyword), words.count > 1 else { return line }
            return line[..<keyword.startIndex] + keyword + " ********"
        }.joined(separator: "\n")
    }

    enum State {
        case file(mode: mode_t, bytes: [UInt8])
        case link(target: String)

        init(_ state: String) throws {
            if state.hasPrefix("link ") {
                self = .link(target: String(state.dropFirst(5)))
                return
            }
            let newline = state.firstIndex(of: "\n") ?? state.endIndex
            let header = state[..<newline].split(separator: " ")
            let body = newline == state.endIndex ? "" : String(state[state.index(after: newline)...])
            guard header.count >= 2, header[0] == "file", let mode = mode_t(header[1], radix: 8) else {
                throw HostError(operation: "reading the state", subject: "'\(state.prefix(40))'", errno: EINVAL)
            }
            if header.count == 3 && header[2] == "hex" {
                var bytes: [UInt8] = []
                var digits = body.utf8.makeIterator()
                while let high = digits.next(), let low = digits.next() {
                    bytes.append(UInt8(FileDriver.nibble(high) << 4 | FileDriver.nibble(low)))
                }
                self = .file(mode: mode, bytes: bytes)
            } else {
                self = .file(mode: mode, bytes: Array(body.utf8))
            }
        }
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        digit >= 97 ? digit - 87 : digit - 48
    }
}
