import Engine
import HostAccess
import NodeModel

/// Turns a role's steps into desired state for one spec. Reads the host only to keep what is already
/// right (address labels) and to refuse what cannot work (a missing interface); changes nothing.
public struct StepBuilder {
    public let spec: NodeSpec
    /// The steps of the generation in force, so labels stay stable across runs.
    public let previous: [DesiredStep]
    public let addresses: AddressControl

    public init(spec: NodeSpec, previous: [DesiredStep], addresses: AddressControl) {
        self.spec = spec
        self.previous = previous
        self.addresses = addresses
    }

    public static let kinds = [SysctlStep.kind, VIPAddressStep.kind]

    public func desiredSteps(for role: Role) throws -> [DesiredStep] {
        var errors: [SpecError] = []
        var steps: [DesiredStep] = []
        for step in role.steps(for: spec.mode) {
            do {
                steps.append(try build(step))
            } catch let error as SpecError {
                errors.append(error)
            } catch let error as SpecErrors {
                errors += error.errors
            }
        }
        if !errors.isEmpty { throw SpecErrors(errors) }
        return steps
    }

    private func build(_ step: Role.Step) throws -> DesiredStep {
        switch step.kind {
        case SysctlStep.kind:
            return try SysctlStep.desired(step)
        case VIPAddressStep.kind:
            let earlier = previous.first { $0.name == step.name && $0.kind == AddressDriver.kindName }
            return try VIPAddressStep.desired(step, vips: spec.vips, previous: earlier, addresses: addresses)
        default:
            throw SpecError(step.location, "step '\(step.name)' has the unknown kind '\(step.kind)'; the kinds are: \(Self.kinds.joined(separator: ", "))")
        }
    }
}
