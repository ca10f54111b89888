import ArgumentParser
import Engine
import Glibc
import LVSNode

/// `lvs-node confirm`: keeps a change applied with `--confirm-within`.
struct Confirm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep the change applied with --confirm-within, so it is not undone at its deadline.",
        discussion: """
            Idempotent: confirming again says when it was confirmed. Exits 0 when the change stays (or none awaited \
            confirmation) and 1 when it is too late: the deadline passed and the change was undone, or it was rolled \
            back by hand.
            """)

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try ExitStatus.guarding("confirm", output) {
            let (confirmation, confirmedNow) = try location.agent.confirm()
            let status: Int32
            switch confirmation?.state {
            case nil:
                output.summary("nothing to confirm: no change was applied with --confirm-within")
                status = ExitStatus.success
            case .confirmed(let at)?:
                output.summary("confirmed: \(ConfirmationText.what(confirmation!)) stays (confirmed \(at))")
                status = ExitStatus.success
            case .pending?:
                // confirm() never returns a pending one; kept total for the compiler.
                status = ExitStatus.software
            case .reverted(let at)?:
                output.summary("too late: \(ConfirmationText.what(confirmation!)) was not confirmed by "
                               + "\(confirmation!.deadlineText) and was undone \(at)")
                status = ExitStatus.failedAndRestored
            case .disarmed(let at, let reason)?:
                output.summary("nothing to confirm: \(ConfirmationText.what(confirmation!)) no longer awaits confirmation: \(reason) (\(at))")
                status = ExitStatus.failedAndRestored
            }
            if confirmedNow, let confirmation { SystemLog.event("confirm: \(ConfirmationText.what(confirmation)) confirmed; it stays") }
            output.document("confirm", status: status, [("changed", .bool(confirmedNow)), ("confirmation", ConfirmationText.json(confirmation))])
            return status
        }
    }
}

/// How a confirmation reads, in text and in JSON.
enum ConfirmationText {
    /// "generation 7", or "the rollback of generation 7 (to generation 5)".
    static func what(_ confirmation: Confirmation) -> String {
        switch confirmation.command {
        case .setup: return "generation \(confirmation.inForce ?? 0)"
        case .rollback:
            return "the rollback of generation \(confirmation.restore ?? 0) "
                + (confirmation.inForce.map { "(to generation \($0))" } ?? "(to before lvs-node)")
        }
    }

    /// The line a run that armed one prints, and `status` while it is pending.
    static func pending(_ confirmation: Confirmation, now: Int = WallClock.seconds()) -> String {
        let left = confirmation.deadline - now
        if left <= 0 {
            return "awaiting confirmation: \(what(confirmation)) is past its deadline (\(confirmation.deadlineText)) and is undone by the next lvs-node run or its watcher"
        }
        return "awaiting confirmation: \(what(confirmation)) is undone at \(confirmation.deadlineText) (in \(left) s) unless `lvs-node confirm` keeps it"
    }

    static func json(_ confirmation: Confirmation?, now: Int = WallClock.seconds()) -> JSONValue {
        guard let confirmation else { return .null }
        let (state, at, reason): (String, String?, String?)
        switch confirmation.state {
        case .pending: (state, at, reason) = (confirmation.deadline <= now ? "overdue" : "pending", nil, nil)
        case .confirmed(let when): (state, at, reason) = ("confirmed", when, nil)
        case .reverted(let when): (state, at, reason) = ("reverted", when, nil)
        case .disarmed(let when, let why): (state, at, reason) = ("disarmed", when, why)
        }
        return .object([("state", .string(state)), ("command", .string(confirmation.command.rawValue)),
                        ("generation", .optional(confirmation.inForce)), ("restores", .optional(confirmation.restore)),
                        ("deadline", .string(confirmation.deadlineText)),
                        ("seconds_left", .int(max(0, confirmation.deadline - now))), ("at", .optional(at)), ("reason", .optional(reason))])
    }
}

/// `--confirm-within SECONDS` on setup and rollback.
struct ConfirmWithinOption: ParsableArguments {
    @Option(name: .customLong("confirm-within"),
            help: ArgumentHelp("Undo this change by itself after this many seconds unless `lvs-node confirm` keeps it "
                               + "(survives a lost session, a killed lvs-node and a reboot).", valueName: "seconds"))
    var seconds: Int?

    /// A week at most: a confirmation is for the minutes after a remote change, not a schedule.
    static let longest = 604_800

    func validate() throws {
        if let seconds, seconds < 1 || seconds > Self.longest {
            throw ValidationError("--confirm-within takes 1 to \(Self.longest) seconds, not \(seconds)")
        }
    }
}

/// `rollback --if-unconfirmed ID`: the watcher's (and the systemd timer's) command.
enum RevertUnconfirmed {
    static func run(_ id: String, _ location: LocationOptions, _ output: OutputOptions) throws {
        // Started detached by setup; if it is ever run from a terminal, closing that must not stop it either.
        signal(SIGHUP, SIG_IGN)
        try ExitStatus.guarding("rollback", output) {
            let confirmation = try location.agent.revertIfUnconfirmed(id)
            let status: Int32
            switch confirmation?.state {
            case .reverted?:
                output.summary("reverted: \(ConfirmationText.what(confirmation!)) was not confirmed by \(confirmation!.deadlineText)")
                SystemLog.event("rollback --if-unconfirmed: \(ConfirmationText.what(confirmation!)) was not confirmed by \(confirmation!.deadlineText) and was undone")
                status = ExitStatus.success
            case nil:
                output.summary("nothing to do: confirmation \(id) is no longer the one on record")
                status = ExitStatus.success
            case .some:
                output.summary("nothing to do: \(ConfirmationText.what(confirmation!)) no longer awaits confirmation")
                status = ExitStatus.success
            }
            output.document("rollback", status: status, [
                ("dry_run", .bool(false)), ("generation", .null), ("rolled_back", .array([])), ("changes", .array([])),
                ("recovery", .null), ("confirmation", ConfirmationText.json(confirmation)),
            ])
            return status
        }
    }
}
