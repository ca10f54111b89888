import Glibc
import HostAccess

/// A change applied with `--confirm-within`: undone by itself at its deadline unless `confirm` keeps
/// it. Kept in `<state-dir>/confirmation`, written before the run's first change and replaced
/// atomically at each transition, so the watcher, the next run and the boot path after a reboot all
/// read the same deadline. Only the newest confirmation is kept.
public struct Confirmation: Equatable, Sendable {
    public enum Command: String, Sendable {
        /// Its revert rolls back the generation the setup made.
        case setup
        /// Its revert applies again the generation that was in force before the rollback.
        case rollback
    }

    public enum State: Equatable, Sendable {
        case pending
        case confirmed(at: String)
        /// Undone by lvs-node because the deadline passed unconfirmed.
        case reverted(at: String)
        /// Taken away before its deadline some other way: a rollback by hand, or the run failed.
        case disarmed(at: String, reason: String)
    }

    public var command: Command
    /// The generation in force once the run succeeded (nil after `rollback --all`).
    public var inForce: Int?
    /// The highest generation number once the run succeeded: any later setup changes it.
    public var newest: Int
    /// For a rollback: the generation in force before it, which the revert applies again.
    public var restore: Int?
    /// Seconds since the epoch: the wall clock, because the deadline must outlive a reboot.
    public var deadline: Int
    public var state: State

    public init(command: Command, inForce: Int?, newest: Int, restore: Int?, deadline: Int, state: State = .pending) {
        self.command = command
        self.inForce = inForce
        self.newest = newest
        self.restore = restore
        self.deadline = deadline
        self.state = state
    }

    /// Names this confirmation to its watcher, which acts only if it is still the one on disk.
    public var id: String { "\(newest)-\(deadline)" }

    public var isPending: Bool { state == .pending }

    public func isOverdue(now: Int = WallClock.seconds()) -> Bool { isPending && now >= deadline }

    /// The deadline as ISO 8601 UTC.
    public var deadlineText: String { WallClock.text(deadline) }

    var text: String {
        var out = StateText.line("format", String(Self.format))
        out += StateText.line("command", command.rawValue)
        out += StateText.line("in-force", inForce.map(String.init) ?? "!")
        out += StateText.line("newest", String(newest))
        out += StateText.line("restore", restore.map(String.init) ?? "!")
        out += StateText.line("deadline", String(deadline))
        switch state {
        case .pending: out += StateText.line("state", "pending")
        case .confirmed(let at): out += StateText.line("state", "confirmed", StateText.escape(at))
        case .reverted(let at): out += StateText.line("state", "reverted", StateText.escape(at))
        case .disarmed(let at, let reason): out += StateText.line("state", "disarmed", StateText.escape(at), StateText.escape(reason))
        }
        return out + StateText.line("end", Checksum.fnv1a64(Array(out.utf8)))
    }

    static let format = 1

    init(bytes: [UInt8]) throws {
        let records = StateText.records(bytes)
        guard records.first == ["format", String(Self.format)] else { throw Damaged("it is not in a format this lvs-node knows") }
        guard let end = records.last, end.count == 2, end[0] == "end" else { throw Damaged("its end record is missing: the file was cut short") }
        var cut = bytes.count - 1
        while cut > 0 && bytes[cut - 1] != 10 { cut -= 1 }
        guard Checksum.fnv1a64(Array(bytes[..<cut])) == end[1] else { throw Damaged("its checksum does not match its contents") }
        func number(_ field: String) throws -> Int? {
            if field == "!" { return nil }
            guard let value = Int(field), value >= 0, value <= Int(Int32.max) * 4 else { throw Damaged("'\(field.prefix(20))' is not a number lvs-node writes") }
            return value
        }
        var command: Command?, inForce: Int?, newest: Int?, restore: Int?, deadline: Int?, state: State?
        for fields in records.dropFirst().dropLast() {
            switch (fields.first ?? "", fields.count) {
            case ("command", 2): command = Command(rawValue: fields[1])
            case ("in-force", 2): inForce = try number(fields[1])
            case ("newest", 2): newest = try number(fields[1])
            case ("restore", 2): restore = try number(fields[1])
            case ("deadline", 2): deadline = try number(fields[1])
            case ("state", 2) where fields[1] == "pending": state = .pending
            case ("state", 3) where fields[1] == "confirmed": state = .confirmed(at: fields[2])
            case ("state", 3) where fields[1] == "reverted": state = .reverted(at: fields[2])
            case ("state", 4) where fields[1] == "disarmed": state = .disarmed(at: fields[2], reason: fields[3])
            default: throw Damaged("it has a record it cannot read ('\((fields.first ?? "").prefix(40))')")
            }
        }
        guard let command, let newest, let deadline, let state else { throw Damaged("a record is missing") }
        self.init(command: command, inForce: inForce, newest: newest, restore: restore, deadline: deadline, state: state)
    }
}

/// `<state-dir>/confirmation`.
public struct ConfirmationStore {
    public let path: String

    public init(path: String) { self.path = path }

    public func load() throws -> Confirmation? {
        guard let bytes = try DurableFiles.read(path, limit: 1 << 16) else { return nil }
        do {
            return try Confirmation(bytes: bytes)
        } catch let damaged as Damaged {
            throw EngineError.corruptState("\(path) is damaged (\(damaged.detail)); if no change awaits confirmation, remove it")
        }
    }

    /// On disk before it returns: a kill right after it leaves the deadline for the next run to find.
    public func save(_ confirmation: Confirmation) throws {
        try DurableFiles.writeAtomically(path, Array(confirmation.text.utf8), mode: 0o644)
    }
}

/// The wall clock in whole seconds, and its ISO 8601 form.
public enum WallClock {
    /// CLOCK_REALTIME, not time(2): that reads the coarse clock, which can still show the second
    /// before the one a CLOCK_REALTIME sleep just woke at, and a deadline would seem not yet reached.
    public static func seconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec)
    }

    public static func text(_ seconds: Int) -> String {
        var value = time_t(seconds)
        var parts = tm()
        gmtime_r(&value, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
