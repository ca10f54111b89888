/// The spec as given, flags or YAML, each value with where it came from; `resolve` validates it.
public struct SpecInput: Sendable {
    public struct Item: Sendable {
        public let text: String
        public let location: String
        public init(_ text: String, at location: String) {
            self.text = text
            self.location = location
        }
    }

    public var role: Item?
    public var mode: Item?
    public var vips: [Item] = []
    public var persist: Item?
    public var initSystem: Item?

    public init(role: Item? = nil, mode: Item? = nil, vips: [Item] = [], persist: Item? = nil, initSystem: Item? = nil) {
        self.role = role
        self.mode = mode
        self.vips = vips
        self.persist = persist
        self.initSystem = initSystem
    }

    public static func fromFlags(role: String?, mode: String?, vips: [String], persist: String? = nil, initSystem: String? = nil) -> SpecInput {
        SpecInput(role: role.map { Item($0, at: "--role") },
                  mode: mode.map { Item($0, at: "--mode") },
                  vips: vips.map { Item($0, at: "--vip") },
                  persist: persist.map { Item($0, at: "--persist") },
                  initSystem: initSystem.map { Item($0, at: "--init") })
    }

    public static let yamlKeys = ["role", "mode", "vips", "persist", "init"]

    /// The node spec file (`--config`): unknown keys and wrong types are errors naming the line.
    public static func fromYAML(_ text: String, source: String) throws -> SpecInput {
        let document = try YAMLValue.parse(text, source: source)
        var input = SpecInput()
        for (key, value) in try document.map("the node spec", allowed: yamlKeys) {
            switch key {
            case "role": input.role = Item(try value.string("role"), at: value.location)
            case "mode": input.mode = Item(try value.string("mode"), at: value.location)
            case "persist": input.persist = Item(try value.string("persist"), at: value.location)
            case "init": input.initSystem = Item(try value.string("init"), at: value.location)
            case "vips":
                input.vips = try value.list("vips").enumerated().map { index, item in
                    Item(try item.string("vips[\(index)]"), at: "\(item.location) (vips[\(index)])")
                }
            default: break
            }
        }
        return input
    }

    /// Checks everything that can be checked without the host and returns the spec with its role.
    public func resolve(with catalog: RoleCatalog) throws -> (NodeSpec, Role) {
        guard let role else {
            throw SpecError("--role", "a role is required; the roles are: \(RoleCatalog.shippedNames.joined(separator: ", "))")
        }
        let definition = try catalog.role(named: role.text, location: role.location)
        var errors: [SpecError] = []

        let modeName = mode?.text ?? definition.defaultMode
        if !definition.modes.contains(where: { $0.name == modeName }) {
            let known = definition.modes.map(\.name).joined(separator: ", ")
            errors.append(SpecError(mode?.location ?? "--mode",
                                    "role \(definition.name) has no mode '\(modeName)'; its modes are: \(known)"))
        }

        var addresses: [IPAddress] = []
        var firstSeen: [IPAddress: String] = [:]
        for item in vips {
            guard let address = IPAddress(item.text) else {
                errors.append(SpecError(item.location,
                                        "'\(item.text)' is not an IP address; write a VIP as dotted IPv4 (192.0.2.10) or IPv6 (2001:db8::10), without a prefix"))
                continue
            }
            if let reason = address.reasonNotUnicast {
                errors.append(SpecError(item.location, "\(address) cannot be a VIP because \(reason); use a unicast address clients can reach"))
                continue
            }
            if let earlier = firstSeen[address] {
                errors.append(SpecError(item.location, "VIP \(address) is listed twice (first at \(earlier)); list each VIP once"))
                continue
            }
            firstSeen[address] = item.location
            addresses.append(address)
        }

        let persist = Self.choice(persist, PersistBackend.self, "--persist", &errors) ?? .auto
        let initSystem = Self.choice(initSystem, InitSystem.self, "--init", &errors) ?? .auto

        if !errors.isEmpty { throw SpecErrors(errors) }
        return (NodeSpec(role: definition.name, mode: modeName, vips: addresses, persist: persist, initSystem: initSystem), definition)
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ item: Item?, _: T.Type, _ flag: String,
                                                                   _ errors: inout [SpecError]) -> T? where T.RawValue == String {
        guard let item else { return nil }
        if let value = T(rawValue: item.text) { return value }
        let known = T.allCases.map(\.rawValue).joined(separator: ", ")
        errors.append(SpecError(item.location, "'\(item.text)' is not a choice for \(flag.dropFirst(2)); use one of: \(known)"))
        return nil
    }
}
