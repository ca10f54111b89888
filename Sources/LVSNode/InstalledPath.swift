import Glibc

/// The path the boot unit and init script call lvs-node by.
///
/// The rule: when the running binary is the file the packages install (`/usr/sbin/lvs-node`, however it
/// was started: `/sbin/lvs-node` through the /usr merge, a link, a hard link), the boot files name
/// `/usr/sbin/lvs-node`, so they keep working when an upgrade replaces that file. Any other binary (a
/// build tree, `/usr/local/sbin`, a copy in /tmp) is not known to stay anywhere else, so it names its
/// own path, as before.
enum InstalledPath {
    /// Where the .deb and the .rpm put the binary.
    static let packaged = "/usr/sbin/lvs-node"

    /// The path to write into the boot files for the binary running now.
    static func forBootFiles() -> String {
        choose(running: runningExecutable(), isPackagedFile: sameFile("/proc/self/exe", packaged))
    }

    /// The rule itself, apart from the lookups: the packaged path for the packaged file (or when the
    /// running binary cannot be named at all: it is the one path that is meant to last), else the
    /// running binary's own path. A binary replaced while it runs (an upgrade) is named by the kernel
    /// `PATH (deleted)`; its successor is at PATH.
    static func choose(running: String?, isPackagedFile: Bool) -> String {
        guard var running, !isPackagedFile else { return packaged }
        if running.hasSuffix(deletedSuffix) { running.removeLast(deletedSuffix.count) }
        return running
    }

    private static let deletedSuffix = " (deleted)"

    /// What /proc/self/exe names (nil without /proc).
    static func runningExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether two paths lead to one file (device and inode), following links.
    static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
