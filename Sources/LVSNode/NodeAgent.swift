import Engine
import Glibc
import HostAccess
import NodeModel
import Render
import Steps

/// The operations behind every command (`plan`, `setup`, `status`, `rollback`, `history`), callable by the
/// command line, a cloud-init hook or a test alike. Prints nothing; returns reports.
///
/// One writer: every command that changes the host takes the state directory's lock before it reads
/// the host or the generations, then recovers an interrupted run, plans, checks and applies under it.
/// Read-only commands take the lock shared, so they never see a run half-way.
public struct NodeAgent {
    public let environment: NodeEnvironment
    /// How long to wait for another run's lock, in seconds (0: fail at once with `FileLock.Busy`).
    public let lockWait: Int

    public init(_ environment: NodeEnvironment, lockWait: Int = 0) {
        self.environment = environment
        self.lockWait = lockWait
    }

    var journal: Journal { Journal(path: "\(environment.stateDirectory)/journal") }
    var generations: GenerationStore { GenerationStore(directory: "\(environment.stateDirectory)/generations") }
    var lockPath: String { "\(environment.stateDirectory)/lock" }

    /// Validates the spec against its role and resolves `auto` choices from the root; touches nothing.
    public func resolve(_ input: SpecInput) throws -> (NodeSpec, Role) {
        let (spec, role) = try input.resolve(with: environment.roleCatalog)
        return (PlatformDetection.resolve(spec, root: environment.root), role)
    }

    public func plan(_ input: SpecInput) throws -> PlanReport {
        let (spec, role) = try resolve(input)
        return try FileLock.withLock(lockPath, .shared, wait: lockWait) {
            let host = try Host(environment)
            let current = try generations.current()
            let (plan, _) = try makePlan(spec, role, host, current)
            return PlanReport(changes: ReportedChange.list(plan.changes, host.drivers), interruptedRun: journal.exists,
                              foreignFiles: Self.foreignFiles(plan, current),
                              rebootSurvival: RebootSurvival.lines(spec, root: environment.root.root, moduleParameter: environment.moduleParameter),
                              pendingConfirmation: try confirmations.load().flatMap { $0.isPending ? $0 : nil })
        }
    }

    /// `force`: replace files at the target paths that lvs-node did not write (they are kept in the
    /// generation and put back by rollback).
    /// `confirmWithin`: seconds after which the change undoes itself unless `confirm` keeps it; the
    /// revert is armed before the first change.
    public func setup(_ input: SpecInput, force: Bool = false, cloudInitHook: Bool = false, confirmWithin: Int? = nil) throws -> RunReport {
        var (spec, role) = try resolve(input)
        spec.cloudInitHook = cloudInitHook
        try requireNetAdmin()
        if !DurableFiles.exists(environment.stateDirectory) {
            // A first run checks the spec against the host before it creates even the state directory,
            // so bad input leaves nothing behind. It plans again under the lock.
            let (plan, _) = try makePlan(spec, role, try Host(environment), nil)
            if !force { try Self.refuseForeignFiles(plan, nil) }
        }
        var report = try underChangeLock { host, recovery in
            try refuseWhileAwaitingConfirmation()
            return try setupRun(spec, role, host, recovery: recovery, force: force, confirmWithin: confirmWithin)
        }
        // Draining real servers are a generation of their own (at weight 0, with their deadline). Wait
        // without the lock (status and plan may look meanwhile) until one is done, then run again,
        // which lets go of it; a run that made another generation meanwhile has taken the drain over.
        let relock = NodeAgent(environment, lockWait: max(lockWait, 60))
        while let current = try FileLock.withLock(lockPath, .shared, wait: relock.lockWait, { try generations.current() }),
              case let draining = IPVSDrainStep.draining(current.steps), !draining.isEmpty {
            try Host(environment).ipvs.awaitDrain(draining)
            let next = try relock.underChangeLock { host, recovery -> RunReport? in
                guard try generations.current()?.number == current.number else { return nil }
                return try setupRun(spec, role, host, recovery: recovery, force: force)
            }
            guard let next else {
                environment.progress("another run changed the host while the drain waited; it carries the drain on")
                break
            }
            report.append(next)
        }
        return report
    }

    /// One planned, journaled run of `setup` and the generation it makes (none when nothing changes).
    private func setupRun(_ spec: NodeSpec, _ role: Role, _ host: Host, recovery: Recovery.Outcome, force: Bool,
                          confirmWithin: Int? = nil) throws -> RunReport {
        let current = try generations.current()
        let (plan, steps) = try makePlan(spec, role, host, current)
        if !force { try Self.refuseForeignFiles(plan, current) }
        try ServiceReload.preflight(role: role, root: environment.root, changes: plan.changes)
        if plan.isEmpty && current?.steps == steps {
            return RunReport(changes: [], generation: nil, recovery: recovery)
        }
        let number = try generations.nextNumber()
        var generation = Generation(number: number, created: Clock.now(), spec: spec.yaml, summary: Self.summary(spec),
                                    steps: steps, changes: plan.changes, previous: current)
        generation.specIsPrivate = spec.ha?.password != nil
        if generation.specIsPrivate { generation.maskedSpec = spec.maskedYAML }
        let recorded = generation
        var notes: [String] = []
        let record = Commit("recording generation \(number)",
                            perform: { try generations.save(recorded, isPrivate: host.drivers.isPrivate) },
                            retract: { try generations.retract(recorded) })
        if confirmWithin != nil && !IPVSDrainStep.draining(steps).isEmpty {
            // The drain goes on in later runs (later generations) after this one returns; the revert of
            // this one alone could not undo them.
            throw SpecError("--confirm-within", "real servers would be drained (drain:); a drain cannot await confirmation. "
                            + "Apply the change without --confirm-within, or without drain:")
        }
        let confirmation = try confirmWithin.map {
            try arm(Confirmation(command: .setup, inForce: number, newest: number, restore: nil, deadline: WallClock.seconds() + $0))
        }
        try disarming(confirmation, because: "the setup failed and was undone") {
            try Executor(drivers: host.drivers, journal: journal)
                .run(plan, header: .init(command: .setup, generation: number),
                     commits: Self.reloads(plan.changes, role, environment.root, notes: { notes = $0 }) + [record])
        }
        var report = RunReport(changes: ReportedChange.list(plan.changes, host.drivers), generation: number, recovery: recovery, notes: notes,
                               rebootSurvival: RebootSurvival.lines(spec, root: environment.root.root, moduleParameter: environment.moduleParameter))
        report.confirmation = confirmation
        return report
    }

    /// Undoes the newest generation in force.
    public func rollback() throws -> RunReport {
        let report = try rollback(to: .newest)
        return report.runs.first ?? RunReport(changes: [], generation: nil, recovery: report.recovery)
    }

    /// Which generations a rollback undoes.
    public enum RollbackTarget: Equatable, Sendable {
        /// The newest in force.
        case newest
        /// Every generation in force newer than this one: the host as right after it was applied.
        case generation(Int)
        /// Every generation in force: the host as before lvs-node.
        case all
    }

    /// Undoes generation after generation, newest first, in one locked run: each is a run of its own
    /// (its own journal header, commits and generation mark), so a kill between two is recovered like
    /// any rollback and leaves the older ones in force. `confirmWithin`: seconds after which the generation in force before the rollback is applied
    /// again unless `confirm` keeps the rollback; armed before the first change.
    public func rollback(to target: RollbackTarget, confirmWithin: Int? = nil) throws -> RollbackReport {
        try requireNetAdmin()
        return try underChangeLock { firstHost, recovery in
            let floor = try floorNumber(target)
            var confirmation: Confirmation?
            if let seconds = confirmWithin, let before = try generations.current(), before.number > floor {
                try refuseWhileAwaitingConfirmation()
                let after = target == .newest ? try generations.applied(below: before.number) : try generations.applied(below: floor + 1)
                confirmation = try arm(Confirmation(command: .rollback, inForce: after, newest: try generations.newestNumber(),
                                                    restore: before.number, deadline: WallClock.seconds() + seconds))
            }
            var report = try disarming(confirmation, because: "the rollback failed") {
                try rollBackGenerations(target, floor: floor, firstHost: firstHost, recovery: recovery)
            }
            report.confirmation = confirmation
            // A change awaiting confirmation that this rollback took away needs no revert any more.
            if confirmation == nil { try disarmIfNoLongerInForce() }
            return report
        }
    }

    private func rollBackGenerations(_ target: RollbackTarget, floor: Int, firstHost: Host, recovery: Recovery.Outcome) throws -> RollbackReport {
        var runs: [RunReport] = []
        while let generation = try generations.current(), generation.number > floor {
            // A fresh view of the host for each run after the first: nothing cached from the last.
            let host = runs.isEmpty ? firstHost : try Host(environment)
            var report: RunReport
            do {
                report = try rollBack(generation, host)
            } catch where !runs.isEmpty {
                // The error speaks of this run only: say what the earlier ones already did.
                let done = runs.compactMap(\.generation).map(String.init).joined(separator: ", ")
                environment.progress("note: generation \(done) was rolled back before this failure; generation \(generation.number) is in force")
                throw error
            }
            if runs.isEmpty { report.recovery = recovery }
            runs.append(report)
            if target == .newest { break }
        }
        return RollbackReport(runs: runs, recovery: recovery)
    }

    /// What `rollback(to:)` would do, generation after generation, each planned against the host as
    /// the ones before it would leave it; touches nothing.
    public func planRollback(to target: RollbackTarget) throws -> RollbackReport {
        try FileLock.withLock(lockPath, .shared, wait: lockWait) {
            let host = try Host(environment)
            let floor = try floorNumber(target)
            let simulated = Drivers(host.all.map { SimulatedDriver($0) })
            var runs: [RunReport] = []
            let inForce = try generations.all().filter { $0.isApplied && $0.number > floor }.sorted { $0.number > $1.number }
            for generation in target == .newest ? Array(inForce.prefix(1)) : inForce {
                let plan = Plan(steps: try Self.undoSteps(generation).map { try Planner.diff($0, simulated) })
                for step in plan.steps { try simulated.driver(for: step.kind).write(step.changes) }
                runs.append(RunReport(changes: ReportedChange.list(plan.changes, simulated), generation: generation.number,
                                      recovery: .nothingToDo))
            }
            return RollbackReport(runs: runs, recovery: .nothingToDo, interruptedRun: journal.exists)
        }
    }

    /// Generations above this number are rolled back; refuses a `--to` generation that is not in force.
    private func floorNumber(_ target: RollbackTarget) throws -> Int {
        switch target {
        case .all: return 0
        case .newest: return (try generations.current()?.number ?? 1) - 1
        case .generation(let number):
            guard number >= 1, number <= GenerationStore.maximumNumber, let generation = try generations.load(number) else {
                throw SpecError("--to \(number)", "there is no generation \(number); `lvs-node history` lists them")
            }
            if let when = generation.rolledBack {
                throw SpecError("--to \(number)", "generation \(number) was rolled back \(when) and is not in force; "
                                + "name one that `lvs-node history` shows as applied, or use --all")
            }
            return number
        }
    }

    /// One generation's undo, as a run of its own.
    func rollBack(_ current: Generation, _ host: Host, commits extra: [Commit] = [], because reason: String? = nil) throws -> RunReport {
        var generation = current
        let plan = Plan(steps: try Self.undoSteps(generation).map { try Planner.diff($0, host.drivers) })
        generation.rolledBack = Clock.now()
        generation.rolledBackBecause = reason
        let marked = generation
        var notes: [String] = []
        let record = Commit("recording generation \(generation.number) as rolled back",
                            perform: { try generations.save(marked) }, retract: { try generations.retract(marked) })
        let role = try? environment.roleCatalog.role(named: Self.roleName(generation), location: "generation \(generation.number)")
        if let role { try ServiceReload.preflight(role: role, root: environment.root, changes: plan.changes) }
        let reloads = role.map { Self.reloads(plan.changes, $0, environment.root, notes: { notes = $0 }) } ?? []
        try Executor(drivers: host.drivers, journal: journal)
            .run(plan, header: .init(command: .rollback, generation: generation.number), commits: reloads + [record] + extra)
        return RunReport(changes: ReportedChange.list(plan.changes, host.drivers), generation: generation.number,
                         recovery: .nothingToDo, notes: notes)
    }

    /// Compares the host with the generation in force.
    public func status() throws -> StatusReport {
        try FileLock.withLock(lockPath, .shared, wait: lockWait) { try unlockedStatus() }
    }

    private func unlockedStatus() throws -> StatusReport {
        let host = try Host(environment)
        let interrupted = try Recovery.pending(journal: journal, generations: generations, drivers: host.drivers)
        var report = StatusReport(generation: try generations.current(), driftChanges: [], interruptedRun: interrupted)
        report.confirmation = try confirmationForStatus()
        if case .undo(_, _, _, let changes)? = interrupted {
            report.interruptedUndoChanges = ReportedChange.list(changes, host.drivers)
        }
        guard let generation = report.generation else { return report }
        let changes = try generation.steps.flatMap { try Planner.diff($0, host.drivers).changes }
        // Without root a private file cannot be compared (its wanted state and its content are both
        // root's); one that is missing is still drift.
        let unreadable = Set(generation.steps.flatMap { $0.desired }.filter { $0.state == PrivateState.unreadable }.map(\.subject))
            .union(changes.filter { $0.before == PrivateState.unreadable }.map(\.subject))
        let missing = Set(changes.filter { host.drivers.isAbsent($0.kind, $0.before) }.map(\.subject))
        report.notChecked = unreadable.subtracting(missing).sorted()
        report.driftChanges = ReportedChange.list(changes.filter { !report.notChecked.contains($0.subject) }, host.drivers)
        let ipvs = generation.steps.filter { $0.kind == IPVSDriver.kindName }.flatMap(\.desired)
        if !ipvs.isEmpty {
            let control = try host.view.ipvs.control()
            let wanted = Dictionary(ipvs.map { ($0.subject, $0.state) }, uniquingKeysWith: { first, _ in first })
            report.ipvsTable = IPVSTable.lines(services: try control.services(), destinations: try control.destinations(), wanted: wanted,
                                               draining: IPVSDrainStep.draining(generation.steps))
        }
        return report
    }

    /// The spec of the generation in force, or of generation `number` (applied or rolled back), as
    /// YAML `setup --config` takes; nil when nothing is in force. Its VRRP password is masked when
    /// this process may not read the private store (only root may).
    public func show(generation number: Int? = nil) throws -> ShownSpec? {
        try FileLock.withLock(lockPath, .shared, wait: lockWait) {
            let generation: Generation
            if let number {
                guard number >= 1, number <= GenerationStore.maximumNumber, let found = try generations.load(number) else {
                    throw SpecError("--generation \(number)", "there is no generation \(number); `lvs-node history` lists them")
                }
                generation = found
            } else {
                guard let current = try generations.current() else { return nil }
                generation = current
            }
            guard generation.specIsPrivate, generation.spec == PrivateState.unreadable else {
                return ShownSpec(generation: generation.number, spec: generation.spec, secretsMasked: false)
            }
            return ShownSpec(generation: generation.number, spec: generation.maskedSpec, secretsMasked: true)
        }
    }

    public func history() throws -> [Generation] {
        try FileLock.withLock(lockPath, .shared, wait: lockWait) { try generations.all() }
    }

    /// Validates spec files without the host, each alone and the directors among them as HA
    /// clusters; throws `SpecErrors` with every problem.
    public func check(_ files: [String]) throws {
        var errors: [SpecError] = []
        var nodes: [HAPairCheck.Node] = []
        for file in files {
            do {
                let (spec, _) = try environment.readSpecFile(file).resolve(with: environment.roleCatalog)
                nodes.append(HAPairCheck.Node(source: file, spec: spec))
            } catch let error as SpecErrors {
                errors += error.errors
            } catch let error as SpecError {
                errors.append(error)
            }
        }
        errors += HAPairCheck.problems(nodes)
        if !errors.isEmpty { throw SpecErrors(errors) }
    }

    /// Where the cloud-init hook reads the user-data from.
    public enum UserDataSource {
        /// `cloud-init query userdata` where cloud-init is installed (and the root is /), else
        /// `/var/lib/cloud/instance/user-data.txt` under the root.
        case instance
        case file(String)
    }

    /// The cloud-init hook: `setup` with the `lvs_node:` spec of the user-data, or nil when it has none.
    public func cloudInit(from source: UserDataSource, installHook: Bool) throws -> RunReport? {
        let (bytes, origin) = try userData(source)
        guard let input = try UserData.spec(in: bytes, source: origin) else { return nil }
        return try setup(input, cloudInitHook: installHook)
    }

    /// The user-data as bytes: it may be gzip-compressed, as cloud-init accepts it.
    private func userData(_ source: UserDataSource) throws -> ([UInt8], String) {
        if case .file(let path) = source {
            guard let bytes = try NodeEnvironment.readUserData(path, followSymlink: true) else {
                throw SpecError(path, "the user-data file does not exist")
            }
            return (bytes, path)
        }
        let cloudInit = "/usr/bin/cloud-init"
        if environment.root.root == "/" && access(cloudInit, X_OK) == 0 {
            let query = try ProcessRunner.run(cloudInit, ["query", "userdata"], input: nil)
            if query.status == 0 { return (Array(query.output.utf8), "cloud-init query userdata") }
        }
        // cloud-init keeps it behind /var/lib/cloud/instance, a link to the instance's own directory:
        // followed as a process chrooted to the root would, and no larger than any input lvs-node reads.
        let path = environment.root.path("/var/lib/cloud/instance/user-data.txt")
        let bytes: [UInt8]?
        do {
            bytes = try environment.root.readFollowingLinksInside("/var/lib/cloud/instance/user-data.txt", limit: BoundedRead.inputLimit)
        } catch let error as HostError where error.code != .errno(ELOOP) {
            throw SpecError(path, "cannot read the user-data: \(error.detail)")
        }
        guard let bytes else {
            throw SpecError(path, "no user-data: cloud-init has not stored any here; give --user-data FILE")
        }
        return (bytes, path)
    }

    /// The boot path: brings the live state (addresses, sysctls) of the generation in force back,
    /// without touching files or making a generation. What a unit's ExecStart or `init.d start` runs.
    public func start() throws -> RunReport {
        try runLive(.start) { step, _ in step }
    }

    /// The boot path's stop: returns the live state the generation in force set to what it was before
    /// lvs-node; what lvs-node found already in place stays.
    public func stop() throws -> RunReport {
        try runLive(.stop) { step, generation in
            var back = step
            back.desired = step.desired.compactMap { desired in
                guard let prior = generation.baseline[Planner.key(step.kind, desired.subject)] else { return nil }
                return Desired(subject: desired.subject, state: prior)
            }
            return back
        }
    }

    private func runLive(_ command: Journal.Header.Command, _ target: @escaping (DesiredStep, Generation) -> DesiredStep) throws -> RunReport {
        try requireNetAdmin()
        return try underChangeLock { host, recovery in
            // After a reboot the watcher of a change awaiting confirmation is gone: start arms a new one.
            defer { if command == .start { try? rearmAfterStart() } }
            guard let generation = try generations.current() else {
                return RunReport(changes: [], generation: nil, recovery: recovery)
            }
            let live = try generation.steps.filter { !(try host.drivers.driver(for: $0.kind).persistsAcrossReboot) }
            let plan = Plan(steps: try live.map { try Planner.diff(target($0, generation), host.drivers) })
            try Executor(drivers: host.drivers, journal: journal).run(plan, header: .init(command: command, generation: generation.number))
            return RunReport(changes: ReportedChange.list(plan.changes, host.drivers), generation: generation.number, recovery: recovery)
        }
    }

    // MARK: -

    func makePlan(_ spec: NodeSpec, _ role: Role, _ host: Host, _ current: Generation?) throws -> (Plan, [DesiredStep]) {
        let previous = current?.steps ?? []
        let context = RenderContext(binary: InstalledPath.forBootFiles(), root: environment.root.root,
                                    stateDirectory: environment.stateDirectory)
        var builder = StepBuilder(spec: spec, previous: previous, host: host.view, renderer: environment.templateRenderer, context: context)
        builder.baseline = { current?.baseline ?? [:] }   // decoded only if a real server leaves
        let steps = try builder.desiredSteps(for: role)
        // The baseline states of released subjects only: one real server leaving looks up one key.
        let plan = try Planner.plan(steps, previous: previous, priorStates: { current?.baselineStates(of: $0) ?? [:] }, drivers: host.drivers)
        if let missing = SysctlDriver.missing(in: plan) { throw missing }
        return (plan, steps)
    }

    func requireNetAdmin() throws {
        guard environment.mayChangeNetwork() else { throw NotPermitted() }
    }

    /// Holds the state directory's lock for `body`, having first finished what an interrupted run
    /// left: recovery comes before any plan or refusal, because the interrupted run may have
    /// written the very files a refusal would complain about.
    func underChangeLock<T>(_ body: (Host, Recovery.Outcome) throws -> T) throws -> T {
        do {
            // Readable by anyone: what is private lives in its 0600 files and in private/ (0700).
            try DurableFiles.makeDirectories(environment.stateDirectory, mode: 0o755)
        } catch let error as HostError {
            throw StateDirectoryUnusable(path: environment.stateDirectory, error: error)
        }
        return try FileLock.withLock(lockPath, .exclusive, wait: lockWait) {
            let host = try Host(environment)
            let recovery = try Recovery.recover(journal: journal, generations: generations, drivers: host.drivers)
            // A change left unconfirmed past its deadline is undone before anything else is planned.
            let reverted = try settleConfirmation(host)
            return try body(reverted ? try Host(environment) : host, recovery)
        }
    }

    /// Telling the daemons whose files the run changed, as commits of the run: a failure undoes the
    /// run, and after an undo they are told again so they read the restored files.
    static func reloads(_ changes: [Change], _ role: Role, _ root: HostRoot, notes: @escaping ([String]) -> Void) -> [Commit] {
        guard changes.contains(where: { $0.kind == FileDriver.kindName }) else { return [] }
        return [Commit("telling daemons their files changed",
                       perform: { notes(try ServiceReload.afterRun(changes, role: role, root: root)) },
                       redo: { _ = try ServiceReload.afterRun(changes, role: role, root: root) })]
    }

    /// The generation's changes in reverse, each subject back to its prior state, grouped into runs of one kind.
    static func undoSteps(_ generation: Generation) -> [DesiredStep] {
        var steps: [DesiredStep] = []
        for change in generation.changes.reversed() {
            let desired = Desired(subject: change.subject, state: change.before)
            if steps.last?.kind == change.kind {
                steps[steps.count - 1].desired.append(desired)
            } else {
                steps.append(DesiredStep(name: "undo generation \(generation.number)", kind: change.kind, desired: [desired]))
            }
        }
        return steps
    }

    /// The role a generation was made for: the first word of its summary.
    static func roleName(_ generation: Generation) -> String { String(generation.summary.prefix { $0 != " " }) }

    static func summary(_ spec: NodeSpec) -> String {
        let vips = spec.vips.map(\.description).joined(separator: ", ")
        return "\(spec.role) (\(spec.mode), persist \(spec.persist.rawValue), init \(spec.initSystem.rawValue))"
            + (vips.isEmpty ? "" : " vips \(vips)")
    }

    /// Files the plan would replace or remove that exist but are not lvs-node's (not in the generation in force).
    static func foreignFiles(_ plan: Plan, _ current: Generation?) -> [String] {
        let owned = Set(current?.steps.filter { $0.kind == FileDriver.kindName }.flatMap { $0.desired.map(\.subject) } ?? [])
        return plan.changes.filter { $0.kind == FileDriver.kindName && !FileDriver.isAbsent($0.before) && !owned.contains($0.subject) }
            .map(\.subject)
    }

    static func refuseForeignFiles(_ plan: Plan, _ current: Generation?) throws {
        let foreign = foreignFiles(plan, current)
        guard !foreign.isEmpty else { return }
        throw SpecErrors(foreign.map {
            SpecError($0, "exists and was not written by lvs-node; refusing to replace it. Move it away, or pass --force to replace it (it is kept and put back by rollback)")
        })
    }
}

/// The live-state controls of one run and the drivers over them.
struct Host {
    let view: HostView
    let drivers: Drivers
    let ipvs: IPVSDriver
    /// Every driver, for a dry run that simulates them.
    let all: [Driver]

    init(_ environment: NodeEnvironment) throws {
        let handle = IPVSHandle(environment.ipvs)
        var view = HostView(addresses: try environment.addresses(), links: try environment.links(), routes: try environment.routes(),
                            packetFilter: environment.packetFilter(), ipvs: handle)
        view.kernelRelease = environment.kernelRelease()
        self.view = view
        ipvs = IPVSDriver(handle)
        ipvs.onDrain = environment.progress
        all = [AddressDriver(view.addresses), LinkDriver(view.links), RouteDriver(view.routes), NftablesDriver(view.packetFilter),
               SysctlDriver(try environment.sysctls()), ipvs, FileDriver(root: environment.root)]
        drivers = Drivers(all)
    }
}
