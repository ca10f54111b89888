import Engine
import Glibc
import HostAccess
import NodeModel
import Render
import Steps

/// The operations behind every command (`plan`, `setup`, `status`, `rollback`, `history`), callable by the
/// command line, a cloud-init hook or a test alike. Prints nothing; returns reports.
public struct NodeAgent {
    public let environment: NodeEnvironment

    public init(_ environment: NodeEnvironment) { self.environment = environment }

    private var journal: Journal { Journal(path: "\(environment.stateDirectory)/journal") }
    private var generations: GenerationStore { GenerationStore(directory: "\(environment.stateDirectory)/generations") }

    /// Validates the spec against its role and resolves `auto` choices from the root; touches nothing.
    public func resolve(_ input: SpecInput) throws -> (NodeSpec, Role) {
        let (spec, role) = try input.resolve(with: environment.roleCatalog)
        return (PlatformDetection.resolve(spec, root: environment.root), role)
    }

    public func plan(_ input: SpecInput) throws -> PlanReport {
        let (spec, role) = try resolve(input)
        let host = try Host(environment)
        host.ipvs.drainSeconds = spec.ipvs?.drainSeconds ?? 0
        let current = try generations.current()
        let (plan, _) = try makePlan(spec, role, host, current)
        return PlanReport(lines: plan.lines(host.drivers), interruptedRun: journal.exists,
                          foreignFiles: Self.foreignFiles(plan, current))
    }

    /// `force`: replace files at the target paths that lvs-node did not write (they are kept in the
    /// generation and put back by rollback).
    public func setup(_ input: SpecInput, force: Bool = false, cloudInitHook: Bool = false) throws -> RunReport {
        var (spec, role) = try resolve(input)
        spec.cloudInitHook = cloudInitHook
        // Plan (and so validate against the host) before anything is written, even the state directory.
        var current = try generations.current()
        var (plan, steps) = try makePlan(spec, role, try Host(environment), current)
        if !force { try Self.refuseForeignFiles(plan, current) }
        let (host, _lock) = try openForChange()
        _ = _lock
        host.ipvs.drainSeconds = spec.ipvs?.drainSeconds ?? 0
        let recovery = try Recovery.recover(journal: journal, generations: generations, drivers: host.drivers)
        if recovery != .nothingToDo {
            current = try generations.current()
            (plan, steps) = try makePlan(spec, role, host, current)
            if !force { try Self.refuseForeignFiles(plan, current) }
        }
        if plan.isEmpty && current?.steps == steps {
            return RunReport(lines: [], generation: nil, recovery: recovery)
        }
        let number = try generations.nextNumber()
        try Executor(drivers: host.drivers, journal: journal).run(plan, header: .init(command: .setup, generation: number))
        try generations.save(Generation(number: number, created: Clock.now(), spec: spec.yaml, summary: Self.summary(spec),
                                        steps: steps, changes: plan.changes, previous: current))
        try journal.remove()
        return RunReport(lines: plan.lines(host.drivers), generation: number, recovery: recovery,
                         notes: try ServiceReload.afterRun(plan.changes, role: role, root: environment.root))
    }

    /// Undoes the newest generation in force.
    public func rollback() throws -> RunReport {
        let (host, _lock) = try openForChange()
        _ = _lock
        let recovery = try Recovery.recover(journal: journal, generations: generations, drivers: host.drivers)
        guard var generation = try generations.current() else {
            return RunReport(lines: [], generation: nil, recovery: recovery)
        }
        let plan = Plan(steps: try Self.undoSteps(generation).map { try Planner.diff($0, host.drivers) })
        try Executor(drivers: host.drivers, journal: journal).run(plan, header: .init(command: .rollback, generation: generation.number))
        generation.rolledBack = Clock.now()
        try generations.save(generation)
        try journal.remove()
        let role = try? environment.roleCatalog.role(named: Self.roleName(generation), location: "generation \(generation.number)")
        return RunReport(lines: plan.lines(host.drivers), generation: generation.number, recovery: recovery,
                         notes: try role.map { try ServiceReload.afterRun(plan.changes, role: $0, root: environment.root) } ?? [])
    }

    /// Compares the host with the generation in force.
    public func status() throws -> StatusReport {
        guard let generation = try generations.current() else {
            return StatusReport(generation: nil, drift: [], interruptedRun: journal.exists)
        }
        let host = try Host(environment)
        let drift = try generation.steps.flatMap { step in
            try Planner.diff(step, host.drivers).changes.flatMap { Plan.lines($0, host.drivers) }
        }
        var report = StatusReport(generation: generation, drift: drift, interruptedRun: journal.exists)
        let ipvs = generation.steps.filter { $0.kind == IPVSDriver.kindName }.flatMap(\.desired)
        if !ipvs.isEmpty {
            let control = try host.view.ipvs.control()
            let wanted = Dictionary(ipvs.map { ($0.subject, $0.state) }, uniquingKeysWith: { first, _ in first })
            report.ipvsTable = IPVSTable.lines(services: try control.services(), destinations: try control.destinations(), wanted: wanted)
        }
        return report
    }

    public func history() throws -> [Generation] { try generations.all() }

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
        let (text, origin) = try userData(source)
        guard let input = try UserData.spec(in: text, source: origin) else { return nil }
        return try setup(input, cloudInitHook: installHook)
    }

    private func userData(_ source: UserDataSource) throws -> (String, String) {
        if case .file(let path) = source {
            guard let bytes = try DurableFiles.read(path) else { throw SpecError(path, "the user-data file does not exist") }
            return (String(decoding: bytes, as: UTF8.self), path)
        }
        let cloudInit = "/usr/bin/cloud-init"
        if environment.root.root == "/" && access(cloudInit, X_OK) == 0 {
            let query = try ProcessRunner.run(cloudInit, ["query", "userdata"], input: nil)
            if query.status == 0 { return (query.output, "cloud-init query userdata") }
        }
        let path = environment.root.path("/var/lib/cloud/instance/user-data.txt")
        guard let bytes = try DurableFiles.read(path) else {
            throw SpecError(path, "no user-data: cloud-init has not stored any here; give --user-data FILE")
        }
        return (String(decoding: bytes, as: UTF8.self), path)
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

    private func runLive(_ command: Journal.Header.Command, _ target: (DesiredStep, Generation) -> DesiredStep) throws -> RunReport {
        let (host, _lock) = try openForChange()
        _ = _lock
        let recovery = try Recovery.recover(journal: journal, generations: generations, drivers: host.drivers)
        guard let generation = try generations.current() else {
            return RunReport(lines: [], generation: nil, recovery: recovery)
        }
        let live = try generation.steps.filter { !(try host.drivers.driver(for: $0.kind).persistsAcrossReboot) }
        let plan = Plan(steps: try live.map { try Planner.diff(target($0, generation), host.drivers) })
        try Executor(drivers: host.drivers, journal: journal).run(plan, header: .init(command: command, generation: generation.number))
        try journal.remove()
        return RunReport(lines: plan.lines(host.drivers), generation: generation.number, recovery: recovery)
    }

    // MARK: -

    private func makePlan(_ spec: NodeSpec, _ role: Role, _ host: Host, _ current: Generation?) throws -> (Plan, [DesiredStep]) {
        let previous = current?.steps ?? []
        let context = RenderContext(binary: Self.executablePath(), root: environment.root.root,
                                    stateDirectory: environment.stateDirectory)
        let steps = try StepBuilder(spec: spec, previous: previous, host: host.view,
                                    renderer: environment.templateRenderer, context: context).desiredSteps(for: role)
        let plan = try Planner.plan(steps, previous: previous, baseline: current?.baseline ?? [:], drivers: host.drivers)
        if let missing = SysctlDriver.missing(in: plan) { throw missing }
        return (plan, steps)
    }

    /// Checks the privilege before anything changes, then holds the state directory's lock for the run.
    private func openForChange() throws -> (Host, FileLock) {
        guard environment.mayChangeNetwork() else { throw NotPermitted() }
        try DurableFiles.makeDirectories(environment.stateDirectory, mode: 0o700)
        let lock = try FileLock("\(environment.stateDirectory)/lock")
        return (try Host(environment), lock)
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
        return plan.changes.filter { $0.kind == FileDriver.kindName && $0.before != nil && !owned.contains($0.subject) }.map(\.subject)
    }

    static func refuseForeignFiles(_ plan: Plan, _ current: Generation?) throws {
        let foreign = foreignFiles(plan, current)
        guard !foreign.isEmpty else { return }
        throw SpecErrors(foreign.map {
            SpecError($0, "exists and was not written by lvs-node; refusing to replace it. Move it away, or pass --force to replace it (it is kept and put back by rollback)")
        })
    }

    /// This binary, for the boot unit and init script to call.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "/usr/local/sbin/lvs-node" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The live-state controls of one run and the drivers over them.
private struct Host {
    let view: HostView
    let drivers: Drivers
    let ipvs: IPVSDriver

    init(_ environment: NodeEnvironment) throws {
        let handle = IPVSHandle(environment.ipvs)
        view = HostView(addresses: try environment.addresses(), links: try environment.links(), routes: try environment.routes(),
                        packetFilter: environment.packetFilter(), ipvs: handle)
        ipvs = IPVSDriver(handle)
        ipvs.onDrain = environment.progress
        drivers = Drivers([AddressDriver(view.addresses), LinkDriver(view.links), RouteDriver(view.routes), NftablesDriver(view.packetFilter),
                           SysctlDriver(try environment.sysctls()), ipvs, FileDriver(root: environment.root)])
    }
}
