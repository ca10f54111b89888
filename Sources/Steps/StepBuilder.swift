import Engine
import HostAccess
import NodeModel
import Render

/// Turns a role's steps into desired state for one spec. Reads the host only to keep what is already
/// right (address labels) and to refuse what cannot work (a missing interface); changes nothing.
public struct StepBuilder {
    public let spec: NodeSpec
    /// The steps of the generation in force, so labels stay stable across runs.
    public let previous: [DesiredStep]
    public let host: HostView
    public let renderer: TemplateRenderer
    public let context: RenderContext
    /// The generation in force's subjects as they were before lvs-node (`Generation.baseline`): a
    /// draining real server is one lvs-node added. Called only when a real server leaves the spec: the
    /// generation decodes its baseline on first use, and a run that keeps its table never needs it.
    public var baseline: () -> [String: String?] = { [:] }
    /// The wall clock, in seconds since 1970 (drain deadlines).
    public var now: () -> Int = DrainDeadline.now

    /// `spec.persist` and `spec.initSystem` must already be resolved from `auto`.
    public init(spec: NodeSpec, previous: [DesiredStep], host: HostView,
                renderer: TemplateRenderer, context: RenderContext) {
        self.spec = spec
        self.previous = previous
        self.host = host
        self.renderer = renderer
        self.context = context
    }

    public static let kinds = [SysctlStep.kind, AddressStep.vipKind, AddressStep.interfaceKind, TunnelDeviceStep.kind,
                               RouteStep.defaultKind, RouteStep.staticKind, TcpMssStep.kind, IPVSStep.kind, IPVSDrainStep.kind, FirewallMarkStep.kind, FileStep.fileKind, FileStep.symlinkKind]

    public func desiredSteps(for role: Role) throws -> [DesiredStep] {
        var errors: [SpecError] = []
        var steps: [DesiredStep] = []
        var host = self.host
        var values: [String: Any]?   // the template context, made once when the first file step needs it
        for step in role.steps(for: spec.mode, conditions: spec.conditions) {
            do {
                if [FileStep.fileKind, FileStep.symlinkKind, TcpMssStep.kind, FirewallMarkStep.kind].contains(step.kind) && values == nil {
                    values = context.values(spec, earlier: steps)
                }
                if step.kind == IPVSDrainStep.kind {
                    steps += try IPVSDrainStep.desired(step, spec: spec, previous: previous, baseline: baseline, earlier: steps,
                                                       host: host, now: now())
                    continue
                }
                let built = try build(step, host: host, values: values ?? [:], earlier: steps)
                if built.kind == LinkDriver.kindName { host.devicesCreatedEarlier.formUnion(built.desired.map(\.subject)) }
                steps.append(built)
            } catch let error as SpecError {
                errors.append(error)
            } catch let error as SpecErrors {
                errors += error.errors
            }
        }
        if !errors.isEmpty { throw SpecErrors(errors) }
        return steps
    }

    /// `values`: the template context, from the steps before the first file step (file steps come
    /// after the live-state steps whose results they write down).
    private func build(_ step: Role.Step, host: HostView, values: [String: Any], earlier: [DesiredStep]) throws -> DesiredStep {
        let previousStep = previous.first { $0.name == step.name }
        switch step.kind {
        case AddressStep.vipKind, AddressStep.interfaceKind:
            return try AddressStep.desired(step, spec: spec, previous: previousStep, host: host)
        case TunnelDeviceStep.kind:
            return try TunnelDeviceStep.desired(step, host: host)
        case RouteStep.defaultKind, RouteStep.staticKind:
            return try RouteStep.desired(step, spec: spec, host: host)
        case TcpMssStep.kind, FirewallMarkStep.kind:
            do {
                return step.kind == TcpMssStep.kind
                    ? try TcpMssStep.desired(step, spec: spec, host: host, values: values, renderer: renderer)
                    : try FirewallMarkStep.desired(step, spec: spec, host: host, values: values, renderer: renderer)
            } catch let error as TemplateRenderer.Failure {
                throw SpecError(step.location, "step '\(step.name)': \(error)")
            }
        case FileStep.fileKind, FileStep.symlinkKind:
            try context.validate()
            do {
                let origin = step.when["ha"] != nil ? spec.locations.ha ?? spec.locations.source : spec.locations.source
                return try FileStep.desired(step, values: values, renderer: renderer, root: HostRoot(context.root), origin: origin)
            } catch let error as TemplateRenderer.Failure {
                throw SpecError(step.location, "step '\(step.name)': \(error)")
            }
        case SysctlStep.kind:
            return try SysctlStep.desired(step, spec: spec, host: host, earlier: earlier)
        case IPVSStep.kind:
            return try IPVSStep.desired(step, spec: spec, host: host, previous: previous)
        default:
            throw SpecError(step.location, "step '\(step.name)' has the unknown kind '\(step.kind)'; the kinds are: \(Self.kinds.joined(separator: ", "))")
        }
    }
}
