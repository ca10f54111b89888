import Engine
import Glibc
import HostAccess

/// Arms the revert of a change awaiting confirmation, before its first change: a watcher process of
/// its own session, in this network and mount namespace, that waits for the deadline and then runs
/// `lvs-node rollback --if-unconfirmed ID`; and where systemd is PID 1 and these are its namespaces,
/// a transient systemd timer running the same command too, because logind may kill every process
/// of a session at logout, detached or not. Either one reverting is enough: the second finds nothing
/// left to do. A reboot kills both; the boot path (`lvs-node start`) reverts or re-arms.
public enum ConfirmTimer {
    /// Starts the watcher (and the systemd timer where it applies); throws when either cannot be started.
    public static func arm(_ confirmation: Confirmation, root: String, stateDirectory: String) throws {
        let arguments = revertArguments(confirmation, root: absolute(root), stateDirectory: absolute(stateDirectory))
        // /proc/self/exe runs this very binary, even if a package upgrade replaced the file meanwhile.
        try DetachedProcess.start("/proc/self/exe", arguments)
        if systemdOwnsTheseNamespaces() {
            let seconds = max(1, confirmation.deadline - WallClock.seconds())
            let result = try ProcessRunner.run("/usr/bin/systemd-run", systemdRunArguments(confirmation, seconds: seconds,
                                                                                          binary: InstalledPath.forBootFiles(),
                                                                                          revert: arguments), input: nil)
            guard result.status == 0 else {
                throw HostError(operation: "starting a systemd timer for the revert (systemd-run: \(result.error.prefix(200)))",
                                subject: "lvs-node-confirm-\(confirmation.id)", errno: EIO)
            }
        }
    }

    /// What the watcher and the timer run.
    static func revertArguments(_ confirmation: Confirmation, root: String, stateDirectory: String) -> [String] {
        ["rollback", "--if-unconfirmed", confirmation.id, "--root", root, "--state-dir", stateDirectory]
    }

    static func systemdRunArguments(_ confirmation: Confirmation, seconds: Int, binary: String, revert: [String]) -> [String] {
        ["--unit", "lvs-node-confirm-\(confirmation.id)", "--on-active=\(seconds)s", "--timer-property=AccuracySec=1s",
         "--description=lvs-node: undo the change unless confirmed by \(confirmation.deadlineText)", "--quiet", "--collect",
         "--", binary] + revert
    }

    /// systemd is PID 1 (`/run/systemd/system`, as sd_booted checks) and this process shares its network
    /// and mount namespaces: a unit it starts sees the same interfaces and the same --root.
    static func systemdOwnsTheseNamespaces() -> Bool {
        var info = stat()
        guard stat("/run/systemd/system", &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return false }
        return ["net", "mnt"].allSatisfy { namespace in
            var ours = stat(), pid1 = stat()
            return stat("/proc/self/ns/\(namespace)", &ours) == 0 && stat("/proc/1/ns/\(namespace)", &pid1) == 0
                && ours.st_ino == pid1.st_ino && ours.st_dev == pid1.st_dev
        }
    }

    /// Sleeps until the wall clock reads `seconds` since the epoch; a clock set forward wakes it.
    public static func sleep(untilWallClock seconds: Int) {
        var target = timespec(tv_sec: time_t(seconds), tv_nsec: 0)
        while clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, nil) == EINTR {}
    }

    /// The watcher and the timer may run in another directory than the caller's.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let directory = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return directory == "/" ? "/" + path : directory + "/" + path
    }
}
