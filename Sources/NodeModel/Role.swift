/// A role as data from `roles/NAME.yaml`: its modes and the ordered steps that make a host take it.
/// The model does not know step kinds; the step layer reads each step's settings.
public struct Role: Sendable {
    public struct Mode: Sendable {
        public let name: String
        public let summary: String
    }

    public struct Step: Sendable {
        public let name: String
        public let kind: String
        /// The modes this step applies to.
        public let modes: [String]
        /// Further conditions on the spec (`persist: [netplan]`, `init: [systemd]`); all must hold.
        public let when: [String: [String]]
        /// Everything else in the step's entry, read by the step kind.
        public let settings: [(key: String, value: YAMLValue)]
        public let location: String

        public func setting(_ key: String) -> YAMLValue? { settings.first { $0.key == key }?.value }

        /// Whether a setting's text holds `fragment` (a placeholder such as `{interface}`).
        public func mentions(_ fragment: String) -> Bool {
            settings.contains { (try? $0.value.string("")).map { $0.contains(fragment) } ?? false }
        }

        public func requiredSetting(_ key: String) throws -> YAMLValue {
            guard let value = setting(key) else {
                throw SpecError(location, "step '\(name)' (kind \(kind)) needs '\(key)'")
            }
            return value
        }
    }

    public let name: String
    public let summary: String
    public let modes: [Mode]
    public let defaultMode: String
    public let steps: [Step]

    /// The steps that apply to a mode and the spec's conditions, in order.
    public func steps(for mode: String, conditions: [String: String] = [:]) -> [Step] {
        steps.filter { step in
            step.modes.contains(mode) && step.when.allSatisfy { key, values in conditions[key].map(values.contains) ?? false }
        }
    }

    /// The keys a step's `when:` may test.
    public static let conditionKeys = ["persist", "init", "ipv6-forwarding", "cloud-init-hook", "ha"]

    /// The spec field each step kind reads; a field no step of the mode reads is refused, so a
    /// `--gateway` given to a DR real server is an error rather than silently ignored.
    static let fieldsByKind: [String: SpecField] = [
        "vip-addresses": .vips, "default-route": .gateway, "tcp-mss": .mss,
        "interface-addresses": .addresses, "static-routes": .routes, "ipvs": .services,
    ]

    public func uses(_ field: SpecField, mode: String) -> Bool {
        steps.contains { step in
            step.modes.contains(mode)
                && (Self.fieldsByKind[step.kind] == field || (field == .ipv6Forwarding && step.when["ipv6-forwarding"] != nil)
                    || (field == .ha && step.when["ha"] != nil) || (field == .interface && step.mentions("{interface}")))
        }
    }

    /// The spec fields a step of the mode cannot do without: the VIPs for a `vip-addresses` step not
    /// marked `optional`, the gateway for a `default-route` step.
    public func requiredFields(mode: String, conditions: [String: String]) -> [SpecField] {
        var fields: [SpecField] = []
        for step in steps(for: mode, conditions: conditions) {
            if step.kind == "vip-addresses" && step.setting("optional") == nil && !fields.contains(.vips) { fields.append(.vips) }
            if step.kind == "default-route" && !fields.contains(.gateway) { fields.append(.gateway) }
        }
        return fields
    }

    public static func parse(_ text: String, source: String) throws -> Role {
        let document = try YAMLValue.parse(text, source: source)
        let top = try document.map("a role", allowed: ["name", "summary", "modes", "default-mode", "steps"])
        func value(_ key: String) throws -> YAMLValue {
            guard let found = top.first(where: { $0.key == key })?.value else {
                throw SpecError(document.location, "a role needs '\(key)'")
            }
            return found
        }
        let name = try value("name").string("name")
        let summary = try value("summary").string("summary")
        let modes = try value("modes").anyMap("modes").map { Mode(name: $0.key, summary: try $0.value.string("a mode's summary")) }
        let defaultMode = try value("default-mode").string("default-mode")
        // Role and mode names land in file comments, unit names and init scripts.
        if let problem = ValueSyntax.identifierProblem(name) {
            throw SpecError(try value("name").location, "the role name '\(name)' is refused: \(problem)")
        }
        for mode in modes {
            if let problem = ValueSyntax.identifierProblem(mode.name) {
                throw SpecError(try value("modes").location, "the mode name '\(mode.name)' is refused: \(problem)")
            }
        }
        guard modes.contains(where: { $0.name == defaultMode }) else {
            throw SpecError(try value("default-mode").location, "default-mode '\(defaultMode)' is not one of the role's modes")
        }
        let steps = try value("steps").list("steps").map { entry -> Step in
            let pairs = try entry.anyMap("a step")
            func field(_ key: String) throws -> YAMLValue {
                guard let found = pairs.first(where: { $0.key == key })?.value else {
                    throw SpecError(entry.location, "a step needs '\(key)'")
                }
                return found
            }
            let stepModes = try field("modes").list("modes").map { try $0.string("a mode") }
            for mode in stepModes where !modes.contains(where: { $0.name == mode }) {
                throw SpecError(try field("modes").location, "mode '\(mode)' is not declared under the role's modes")
            }
            var when: [String: [String]] = [:]
            if let condition = pairs.first(where: { $0.key == "when" })?.value {
                for (key, value) in try condition.map("when", allowed: conditionKeys) {
                    when[key] = try value.list("when.\(key)").map { try $0.string("a value of when.\(key)") }
                }
            }
            return Step(name: try field("name").string("name"), kind: try field("kind").string("kind"),
                        modes: stepModes, when: when,
                        settings: pairs.filter { !["name", "kind", "modes", "why", "when"].contains($0.key) },
                        location: entry.location)
        }
        return Role(name: name, summary: summary, modes: modes, defaultMode: defaultMode, steps: steps)
    }
}
