import Engine
import HostAccess
import NodeModel
import Steps

/// Confirm or revert: a change applied with `--confirm-within` is undone at its deadline unless
/// `confirm` keeps it. The deadline is on disk before the first change; the watcher (and systemd's
/// timer) only wake a run at the deadline; the undo itself happens under the lock, in
/// `settleConfirmation`, which every command that changes the host runs first. So the revert
/// happens whichever of them gets there first: the watcher, a later command, or the boot path.
extension NodeAgent {
    var confirmations: ConfirmationStore { ConfirmationStore(path: "\(environment.stateDirectory)/confirmation") }

    /// Saves the pending confirmation and starts its watcher; nothing is applied when either fails.
    func arm(_ confirmation: Confirmation) throws -> Confirmation {
        try confirmations.save(confirmation)
        do {
            try environment.armConfirmation(confirmation)
        } catch {
            try? disarm(confirmation, because: "its revert could not be armed")
            throw error
        }
        return confirmation
    }

    /// Runs `body`; if it fails, the confirmation it would have needed is taken off (the run was undone).
    func disarming<T>(_ confirmation: Confirmation?, because reason: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            if let confirmation { try? disarm(confirmation, because: reason) }
            throw error
        }
    }

    private func disarm(_ confirmation: Confirmation, because reason: String) throws {
        var disarmed = confirmation
        disarmed.state = .disarmed(at: Clock.now(), reason: reason)
        try confirmations.save(disarmed)
    }

    /// A setup made while a change awaits confirmation would be undone with it, or outlive it: refused.
    func refuseWhileAwaitingConfirmation() throws {
        if let pending = try confirmations.load(), pending.isPending { throw AwaitingConfirmation(pending) }
    }

    /// Whether the change a confirmation protects is still the one in force: nothing applied or rolled back since.
    func isStillInForce(_ confirmation: Confirmation) throws -> Bool {
        try generations.current()?.number == confirmation.inForce && generations.newestNumber() == confirmation.newest
    }

    /// Under the lock, before a command plans anything: a pending change that is no longer in force is
    /// disarmed, one past its deadline is undone. Returns whether the host was changed.
    func settleConfirmation(_ host: Host) throws -> Bool {
        guard let confirmation = try confirmations.load(), confirmation.isPending else { return false }
        guard try isStillInForce(confirmation) else {
            try disarm(confirmation, because: "what it protected was rolled back or replaced")
            return false
        }
        guard confirmation.isOverdue() else { return false }
        let report = try revert(confirmation, host)
        environment.progress("reverted: the \(confirmation.command.rawValue) was not confirmed by \(confirmation.deadlineText); "
                             + "\(report.changes.count) change\(report.changes.count == 1 ? "" : "s") undone")
        return true
    }

    /// Undoes the change as a run of its own; the confirmation is marked reverted by a commit of that
    /// run, so a kill leaves both as they were or both done.
    private func revert(_ confirmation: Confirmation, _ host: Host) throws -> RunReport {
        var reverted = confirmation
        reverted.state = .reverted(at: Clock.now())
        let record = Commit("recording the change as reverted (not confirmed)",
                            perform: { try confirmations.save(reverted) }, retract: { try confirmations.save(confirmation) })
        switch confirmation.command {
        case .setup:
            guard let number = confirmation.inForce, let generation = try generations.load(number) else {
                throw EngineError.corruptState("generation \(confirmation.inForce ?? 0), awaiting confirmation, is missing")
            }
            return try rollBack(generation, host, commits: [record], because: "not confirmed by \(confirmation.deadlineText)")
        case .rollback:
            guard let number = confirmation.restore, let generation = try generations.load(number) else {
                throw EngineError.corruptState("generation \(confirmation.restore ?? 0), to apply again, is missing")
            }
            return try applyAgain(generation, host, because: "its rollback was not confirmed by \(confirmation.deadlineText)", commits: [record])
        }
    }

    /// A rolled-back generation's desired state, applied as a new generation on top of the one in force;
    /// the old one's rolled-back marker then says why and as which generation (for `history`).
    private func applyAgain(_ old: Generation, _ host: Host, because reason: String, commits extra: [Commit]) throws -> RunReport {
        let current = try generations.current()
        let plan = try Planner.plan(old.steps, previous: current?.steps ?? [], baseline: current?.baseline ?? [:], drivers: host.drivers)
        let number = try generations.nextNumber()
        var generation = Generation(number: number, created: Clock.now(), spec: old.spec, summary: old.summary,
                                    steps: old.steps, changes: plan.changes, previous: current)
        generation.specIsPrivate = old.specIsPrivate
        generation.maskedSpec = old.maskedSpec
        let recorded = generation
        let record = Commit("recording generation \(number)",
                            perform: { try generations.save(recorded, isPrivate: host.drivers.isPrivate) },
                            retract: { try generations.retract(recorded) })
        var noted = old
        noted.rolledBackBecause = "\(reason): applied again as generation \(number)"
        let marked = noted
        // After the record: a kill between the two leaves the marker without its reason, never a reason
        // naming a generation that recovery then takes back.
        let note = Commit("noting on generation \(old.number) why it is applied again",
                          perform: { try generations.save(marked) }, retract: { try generations.save(old) })
        var notes: [String] = []
        let role = try? environment.roleCatalog.role(named: Self.roleName(old), location: "generation \(old.number)")
        if let role { try ServiceReload.preflight(role: role, root: environment.root, changes: plan.changes) }
        let reloads = role.map { Self.reloads(plan.changes, $0, environment.root, notes: { notes = $0 }) } ?? []
        try Executor(drivers: host.drivers, journal: journal)
            .run(plan, header: .init(command: .setup, generation: number), commits: reloads + [record, note] + extra)
        return RunReport(changes: ReportedChange.list(plan.changes, host.drivers), generation: number, recovery: .nothingToDo, notes: notes)
    }

    /// After a plain rollback: a change awaiting confirmation that it took away is disarmed.
    func disarmIfNoLongerInForce() throws {
        guard let confirmation = try confirmations.load(), confirmation.isPending, try !isStillInForce(confirmation) else { return }
        try disarm(confirmation, because: "it was rolled back by hand")
    }

    /// `lvs-node confirm`: keeps the change awaiting confirmation. Under the lock, after any overdue
    /// revert, so a confirm that comes too late finds the change already undone and says so. Returns
    /// the confirmation as it now is, and whether this call confirmed it (false: already was, or none).
    public func confirm() throws -> (confirmation: Confirmation?, confirmedNow: Bool) {
        try requireNetAdmin()
        return try underChangeLock { _, _ in
            guard var confirmation = try confirmations.load() else { return (nil, false) }
            guard confirmation.isPending else { return (confirmation, false) }
            confirmation.state = .confirmed(at: Clock.now())
            try confirmations.save(confirmation)
            return (confirmation, true)
        }
    }

    /// What the watcher and the systemd timer run (`rollback --if-unconfirmed ID`): waits, holding no
    /// lock, until the deadline of confirmation `id`, then undoes the change if it is still pending and
    /// in force. Returns the confirmation as it ended (nil when `id` is no longer the one on disk).
    public func revertIfUnconfirmed(_ id: String) throws -> Confirmation? {
        // Read without the lock: the file is replaced atomically, and the run that armed it holds the lock.
        guard let armed = try confirmations.load(), armed.id == id else { return nil }
        guard armed.isPending else { return armed }
        ConfirmTimer.sleep(untilWallClock: armed.deadline)
        try requireNetAdmin()
        // Waits for any run in progress: the revert must happen, however long that run takes.
        return try NodeAgent(environment, lockWait: 86_400).underChangeLock { _, _ in
            guard let settled = try confirmations.load(), settled.id == id else { return nil }
            return settled
        }
    }

    /// At boot, once the live state is back: the watcher died with the old boot, so a change still
    /// awaiting confirmation gets a new one; if that cannot be started, the change is undone now
    /// rather than left with nothing to undo it.
    func rearmAfterStart() throws {
        guard let confirmation = try confirmations.load(), confirmation.isPending else { return }
        do {
            try environment.armConfirmation(confirmation)
        } catch {
            environment.progress("warning: cannot arm the revert of the change awaiting confirmation (\(error)); undoing it now")
            var due = confirmation
            due.deadline = WallClock.seconds()
            try confirmations.save(due)
            _ = try settleConfirmation(try Host(environment))
        }
    }

    /// For `status`: the confirmation on disk, as the next run would see it.
    func confirmationForStatus() throws -> Confirmation? {
        guard var confirmation = try confirmations.load() else { return nil }
        if confirmation.isPending, try !isStillInForce(confirmation) {
            confirmation.state = .disarmed(at: Clock.now(), reason: "what it protected was rolled back or replaced")
        }
        return confirmation
    }
}

/// `setup` (or `rollback --confirm-within`) while a change awaits confirmation: exit 75, like a busy lock.
public struct AwaitingConfirmation: Error, CustomStringConvertible {
    public let confirmation: Confirmation
    init(_ confirmation: Confirmation) { self.confirmation = confirmation }
    public var description: String {
        "generation \(confirmation.inForce.map(String.init) ?? "none") awaits confirmation until \(confirmation.deadlineText); "
            + "run `lvs-node confirm` to keep it or `lvs-node rollback` to undo it now, then run this again. Nothing was changed"
    }
}
