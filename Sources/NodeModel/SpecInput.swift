/// The spec as given, flags or YAML, each value with where it came from; `resolve` validates it.
public struct SpecInput: Sendable {
    public struct Item: Sendable {
        public let text: String
        private let place: Place

        /// Where the value was given, as errors name it: `node.yaml line 4 (vips[3])` or a flag (`--vip`).
        public var location: String {
            switch place {
            case .flag(let flag): flag
            case .file(let value, let name, let index): "\(value.location) (\(index.map { "\(name)[\($0)]" } ?? name))"
            }
        }

        private enum Place: Sendable {
            case flag(String)
            /// Spelled out only when asked for: a spec of a thousand VIPs asks for none.
            case file(YAMLValue, name: String, index: Int?)
        }

        public init(_ text: String, at location: String) {
            self.text = text
            place = .flag(location)
        }

        init(_ text: String, in value: YAMLValue, name: String, index: Int? = nil) {
            self.text = text
            place = .file(value, name: name, index: index)
        }
    }

    public var role: Item?
    public var mode: Item?
    public var vips: [Item] = []
    public var persist: Item?
    public var initSystem: Item?
    public var gateway: Item?
    public var mss: Item?
    /// router: (interface, ADDRESS/PREFIX)
    public var addresses: [(interface: Item, address: Item)] = []
    /// router: (destination, gateway)
    public var routes: [(to: Item, via: Item)] = []
    public var ipv6Forwarding: Item?
    /// director: the service interface the VIPs go on.
    public var interface: Item?
    /// director: the IPVS table and keepalived, as written (read by `DirectorInput`).
    public var services: YAMLValue?
    public var timeouts: YAMLValue?
    public var ownsTable: Item?
    public var drain: Item?
    /// director: `kernel:` (connection table size, IPVS sysctls), read by `KernelInput`.
    public var kernel: YAMLValue?
    public var ha: YAMLValue?
    /// The spec file or user-data the input was read from; nil for flags.
    public var source: String?

    public init(role: Item? = nil, mode: Item? = nil, vips: [Item] = [], persist: Item? = nil, initSystem: Item? = nil) {
        self.role = role
        self.mode = mode
        self.vips = vips
        self.persist = persist
        self.initSystem = initSystem
    }

    /// The spec from command-line flags. `addresses` are `DEVICE=ADDRESS/PREFIX`, `routes` are
    /// `DESTINATION via GATEWAY` (as ip(8) writes them).
    public static func fromFlags(role: String?, mode: String?, vips: [String], persist: String? = nil, initSystem: String? = nil,
                                 gateway: String? = nil, mss: String? = nil, addresses: [String] = [], routes: [String] = [],
                                 ipv6Forwarding: Bool = false, interface: String? = nil) throws -> SpecInput {
        var input = SpecInput(role: role.map { Item($0, at: "--role") },
                              mode: mode.map { Item($0, at: "--mode") },
                              vips: vips.map { Item($0, at: "--vip") },
                              persist: persist.map { Item($0, at: "--persist") },
                              initSystem: initSystem.map { Item($0, at: "--init") })
        input.gateway = gateway.map { Item($0, at: "--gateway") }
        input.mss = mss.map { Item($0, at: "--mss") }
        input.ipv6Forwarding = ipv6Forwarding ? Item("true", at: "--ipv6-forwarding") : nil
        input.interface = interface.map { Item($0, at: "--interface") }
        input.addresses = try addresses.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw SpecError("--address", "'\(text)' must be DEVICE=ADDRESS/PREFIX, e.g. eth1=203.0.113.1/24")
            }
            return (Item(String(parts[0]), at: "--address"), Item(String(parts[1]), at: "--address"))
        }
        input.routes = try routes.map { text in
            let words = text.split(separator: " ")
            guard words.count == 3, words[1] == "via" else {
                throw SpecError("--route", "'\(text)' must be 'DESTINATION via GATEWAY', e.g. '198.51.100.0/24 via 203.0.113.254'")
            }
            return (Item(String(words[0]), at: "--route"), Item(String(words[2]), at: "--route"))
        }
        return input
    }

    public static let yamlKeys = ["role", "mode", "vips", "persist", "init", "gateway", "tun", "addresses", "routes", "ipv6-forwarding",
                                  "interface", "services", "timeouts", "owns-table", "drain", "kernel", "ha"]

    /// The node spec file (`--config`): unknown keys and wrong types are errors naming the line.
    public static func fromYAML(_ text: String, source: String) throws -> SpecInput {
        try fromYAML(bytes: Array(text.utf8), source: source)
    }

    /// The node spec file's bytes as read: libyaml checks the encoding.
    public static func fromYAML(bytes: [UInt8], source: String) throws -> SpecInput {
        try refuseCloudConfig(bytes, source: source)
        let document = try YAMLValue.parse(bytes: bytes, source: source)
        if case .map(let pairs) = document.content, let spec = pairs.first(where: { $0.key == UserData.key }) {
            throw SpecError(spec.value.keyLocation, cloudConfigAdvice(source))
        }
        return try fromYAML(document)
    }

    /// cloud-init user-data is not a node spec: its `lvs_node:` key holds one.
    private static func refuseCloudConfig(_ bytes: [UInt8], source: String) throws {
        if bytes.starts(with: Array("#cloud-config".utf8)) {
            throw SpecError("\(source) line 1", cloudConfigAdvice(source))
        }
    }

    private static func cloudConfigAdvice(_ source: String) -> String {
        "this is cloud-init user-data (cloud-config), not a node spec; apply it with lvs-node cloud-init --user-data \(source), or give the spec under its \(UserData.key): key as its own file"
    }

    /// The spec from an already parsed YAML mapping (the `lvs_node:` key of cloud-config user-data).
    public static func fromYAML(_ document: YAMLValue) throws -> SpecInput {
        var input = SpecInput()
        input.source = document.source
        func item(_ value: YAMLValue, _ name: String) throws -> Item { Item(try value.string(name), in: value, name: name) }
        func listItem(_ value: YAMLValue, of list: String, _ index: Int) throws -> Item {
            Item(try value.string("\(list)[\(index)]"), in: value, name: list, index: index)
        }
        for (key, value) in try document.map("the node spec", allowed: yamlKeys) {
            switch key {
            case "role": input.role = try item(value, "role")
            case "mode": input.mode = try item(value, "mode")
            case "persist": input.persist = try item(value, "persist")
            case "init": input.initSystem = try item(value, "init")
            case "gateway": input.gateway = try item(value, "gateway")
            case "ipv6-forwarding": input.ipv6Forwarding = try item(value, "ipv6-forwarding")
            case "interface": input.interface = try item(value, "interface")
            case "services": input.services = value
            case "timeouts": input.timeouts = value
            case "owns-table": input.ownsTable = try item(value, "owns-table")
            case "drain": input.drain = try item(value, "drain")
            case "kernel": input.kernel = value
            case "ha": input.ha = value
            case "tun":
                for (name, setting) in try value.map("tun", allowed: ["mss"]) where name == "mss" {
                    input.mss = try item(setting, "tun.mss")
                }
            case "vips":
                input.vips = try value.list("vips").enumerated().map { index, entry in try listItem(entry, of: "vips", index) }
            case "addresses":
                input.addresses = try value.list("addresses").enumerated().map { index, entry in
                    let fields = try entry.map("addresses[\(index)]", allowed: ["interface", "address"])
                    guard let interface = fields.first(where: { $0.key == "interface" })?.value,
                          let address = fields.first(where: { $0.key == "address" })?.value else {
                        throw SpecError(entry.location, "addresses[\(index)] needs interface and address, e.g. {interface: eth1, address: 203.0.113.1/24}")
                    }
                    return (try item(interface, "addresses[\(index)].interface"), try item(address, "addresses[\(index)].address"))
                }
            case "routes":
                input.routes = try value.list("routes").enumerated().map { index, entry in
                    let fields = try entry.map("routes[\(index)]", allowed: ["to", "via"])
                    guard let to = fields.first(where: { $0.key == "to" })?.value,
                          let via = fields.first(where: { $0.key == "via" })?.value else {
                        throw SpecError(entry.location, "routes[\(index)] needs to and via, e.g. {to: 198.51.100.0/24, via: 203.0.113.254}")
                    }
                    return (try item(to, "routes[\(index)].to"), try item(via, "routes[\(index)].via"))
                }
            default: break
            }
        }
        return input
    }

    /// Which optional fields were given, with where: a role and mode that do not use one refuse it.
    public var givenFields: [(field: SpecField, location: String)] {
        var result: [(SpecField, String)] = []
        if let vip = vips.first { result.append((.vips, vip.location)) }
        if let gateway { result.append((.gateway, gateway.location)) }
        if let mss { result.append((.mss, mss.location)) }
        if let address = addresses.first { result.append((.addresses, address.interface.location)) }
        if let route = routes.first { result.append((.routes, route.to.location)) }
        if let ipv6Forwarding { result.append((.ipv6Forwarding, ipv6Forwarding.location)) }
        if let interface { result.append((.interface, interface.location)) }
        for location in [services?.location, timeouts?.location, ownsTable?.location, drain?.location, kernel?.keyLocation].compactMap({ $0 }) {
            result.append((.services, location))
        }
        if let ha { result.append((.ha, ha.location)) }
        return result
    }

    /// Checks everything that can be checked without the host and returns the spec with its role.
    public func resolve(with catalog: RoleCatalog) throws -> (NodeSpec, Role) {
        guard let role else {
            let roles = RoleCatalog.shippedNames.joined(separator: ", ")
            if let source { throw SpecError(source, "the spec needs role: one of \(roles)") }
            throw SpecError("--role", "a role is required; the roles are: \(roles)", kind: .usage)
        }
        let definition = try catalog.role(named: role.text, location: role.location)
        var errors: [SpecError] = []

        let modeName = mode?.text ?? definition.defaultMode
        if !definition.modes.contains(where: { $0.name == modeName }) {
            let known = definition.modes.map(\.name).joined(separator: ", ")
            errors.append(SpecError(mode?.location ?? "--mode",
                                    "role \(definition.name) has no mode '\(modeName)'; its modes are: \(known)"))
        }

        var spec = NodeSpec(role: definition.name, mode: modeName, vips: Self.vips(vips, &errors))
        spec.locations.interface = interface?.location
        spec.persist = Self.choice(persist, PersistBackend.self, "persist", &errors) ?? .auto
        spec.initSystem = Self.choice(initSystem, InitSystem.self, "init", &errors) ?? .auto
        if let gateway {
            spec.gateway = Self.unicast(gateway, what: "the gateway", example: "192.0.2.1", &errors)
        }
        if let mss {
            if let value = Int(mss.text), (536...65495).contains(value) {
                spec.tunnelMSS = value
            } else {
                errors.append(SpecError(mss.location, "'\(mss.text)' is not a TCP MSS; give a number of bytes from 536 to 65495, e.g. 1400"))
            }
        }
        var addressSeen: [String: String] = [:]   // "interface address" → where first given
        for (interface, address) in addresses {
            guard let resolved = Self.interfaceAddress(interface, address, &errors) else { continue }
            let key = "\(resolved.interface) \(resolved.address)"
            if let earlier = addressSeen[key] {
                errors.append(SpecError(interface.location, "the address \(resolved.address) on \(resolved.interface) is listed twice (first at \(earlier)); list each address once"))
                continue
            }
            addressSeen[key] = interface.location
            spec.addresses.append(resolved)
            spec.locations.addresses.append(interface.location)
        }
        for (to, via) in routes {
            guard let route = Self.route(to, via, &errors) else { continue }
            spec.routes.append(route)
            spec.locations.routes.append(via.location)
        }
        spec.ipv6Forwarding = Self.flag(ipv6Forwarding, &errors)
        spec.locations.source = source
        spec.locations.role = role.location
        spec.locations.vips = vips.first?.location
        spec.locations.gateway = gateway?.location
        spec.locations.ha = ha.map { "\($0.keyLocation) (ha)" }
        if definition.uses(.services, mode: modeName) {
            resolveDirector(&spec, &errors)
        }
        if definition.modes.contains(where: { $0.name == modeName }) {
            errors += missingFields(spec, definition)
        }

        for (field, location) in givenFields where !definition.uses(field, mode: modeName) && definition.modes.contains(where: { $0.name == modeName }) {
            errors.append(SpecError(location, "\(field.name) is not used by role \(definition.name) in mode \(modeName)"))
        }

        if !errors.isEmpty { throw SpecErrors(errors) }
        return (spec, definition)
    }

    /// A field the role and mode cannot do without: a flag left out is a usage error (64), a spec
    /// file without it is a data error (65) naming the file at its role.
    private func missingFields(_ spec: NodeSpec, _ definition: Role) -> [SpecError] {
        let kind: SpecError.Kind = source == nil ? .usage : .data
        return definition.requiredFields(mode: spec.mode, conditions: spec.conditions).compactMap { field in
            switch field {
            case .vips where spec.vips.isEmpty && vips.isEmpty:
                return SpecError(spec.locations.missing(flag: "--vip"),
                                 "role \(spec.role) in mode \(spec.mode) needs at least one VIP; give \(source == nil ? "--vip ADDRESS" : "vips: [ADDRESS]")",
                                 kind: kind)
            case .gateway where spec.gateway == nil && gateway == nil:
                return SpecError(spec.locations.missing(flag: "--gateway"),
                                 "role \(spec.role) in mode \(spec.mode) needs the director's address as the default gateway; give \(source == nil ? "--gateway DIP" : "gateway: DIP")",
                                 kind: kind)
            default:
                return nil
            }
        }
    }

    private static func flag(_ item: Item?, _ errors: inout [SpecError]) -> Bool {
        guard let item else { return false }
        switch item.text.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            errors.append(SpecError(item.location, "'\(item.text)' is not true or false"))
            return false
        }
    }

    /// The director's sections; the VIPs it holds are the listed ones and every service's.
    private func resolveDirector(_ spec: inout NodeSpec, _ errors: inout [SpecError]) {
        var director = DirectorInput(defaultForwarding: Forwarding(rawValue: spec.mode) ?? .dr)
        if let interface {
            if let problem = ValueSyntax.interfaceNameProblem(interface.text) {
                errors.append(SpecError(interface.location, "'\(interface.text)' is not an interface name: \(problem)"))
            } else {
                spec.interface = interface.text
            }
        }
        let services = self.services.map { director.services($0) } ?? []
        var ipvs = IPVSSpec(services: services, timeouts: timeouts.flatMap { director.timeouts($0) },
                            ownsTable: Self.flag(ownsTable, &errors))
        if let drain {
            if let seconds = Int(drain.text), (0...3600).contains(seconds) {
                ipvs.drainSeconds = seconds
            } else {
                errors.append(SpecError(drain.location, "drain '\(drain.text)' must be the seconds (0-3600) a leaving real server keeps weight 0 before it is removed"))
            }
        }
        if let kernel {
            var reader = KernelInput()
            ipvs.kernel = reader.settings(kernel)
            errors += reader.errors
        }
        spec.ipvs = ipvs
        spec.ha = ha.flatMap { director.ha($0) }
        errors += director.errors
        if spec.interface == nil, let ha = spec.ha { spec.interface = ha.interface }
        for vip in services.compactMap(\.vip) where !spec.vips.contains(vip) { spec.vips.append(vip) }
        // Only when none was given: a refused interface or ha section has its own error already.
        if spec.interface == nil && !spec.vips.isEmpty && interface == nil && ha == nil {
            errors.append(SpecError(spec.locations.missing(flag: "--interface"),
                                    "the director needs the interface its VIPs go on: \(source == nil ? "--interface eth0" : "interface: eth0") (or lo for a VIP routed to it)",
                                    kind: source == nil ? .usage : .data))
        }
        // keepalived labels the IPv4 VIPs INTERFACE:0, :1, …; a label longer than the kernel's 15
        // bytes is dropped with the address (keepalived -t exits 5).
        if let ha = spec.ha, case let count = spec.vips.filter({ $0.family == .v4 }).count, count > 0,
           "\(ha.interface):\(count - 1)".utf8.count > ValueSyntax.maximumInterfaceName {
            errors.append(SpecError(self.ha?.location ?? "ha", "keepalived labels the IPv4 VIPs \(ha.interface):0 to \(ha.interface):\(count - 1), longer than the 15 bytes a label may have; use an interface with a shorter name"))
        }
        let servers = Set(services.flatMap { $0.realServers.map(\.address) })
        for vip in spec.vips where servers.contains(vip) {
            errors.append(SpecError("services", "\(vip) is both a VIP and a real server; a real server must be another host"))
        }
    }

    private static func vips(_ items: [Item], _ errors: inout [SpecError]) -> [IPAddress] {
        var addresses: [IPAddress] = []
        var firstSeen: [IPAddress: Int] = [:]   // → index in items
        firstSeen.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let address = unicast(item, what: "a VIP", example: "192.0.2.10", &errors) else { continue }
            if let earlier = firstSeen[address] {
                errors.append(SpecError(item.location, "VIP \(address) is listed twice (first at \(items[earlier].location)); list each VIP once"))
                continue
            }
            firstSeen[address] = index
            addresses.append(address)
        }
        return addresses
    }

    private static func unicast(_ item: Item, what: String, example: String, _ errors: inout [SpecError]) -> IPAddress? {
        guard let address = IPAddress(item.text) else {
            errors.append(SpecError(item.location,
                                    "'\(item.text)' is not an IP address; write \(what) as dotted IPv4 (\(example)) or IPv6 (2001:db8::10), without a prefix"))
            return nil
        }
        if let reason = address.reasonNotUnicast {
            errors.append(SpecError(item.location, "\(address) cannot be \(what) because \(reason); \(address.unicastAdvice)"))
            return nil
        }
        return address
    }

    private static func interfaceAddress(_ interface: Item, _ address: Item, _ errors: inout [SpecError]) -> InterfaceCIDR? {
        let name = interface.text
        if let problem = ValueSyntax.interfaceNameProblem(name) {
            errors.append(SpecError(interface.location, "'\(name)' is not an interface name: \(problem)"))
            return nil
        }
        guard let (ip, prefix) = CIDR.parse(address.text) else {
            errors.append(SpecError(address.location, "'\(address.text)' must be ADDRESS/PREFIX, e.g. 203.0.113.1/24"))
            return nil
        }
        if let reason = ip.reasonNotUnicast {
            errors.append(SpecError(address.location, "\(ip) cannot be an interface address because \(reason); \(ip.unicastAdvice)"))
            return nil
        }
        return InterfaceCIDR(interface: name, address: ip, prefixLength: prefix)
    }

    private static func route(_ to: Item, _ via: Item, _ errors: inout [SpecError]) -> StaticRoute? {
        guard let gateway = unicast(via, what: "a gateway", example: "203.0.113.254", &errors) else { return nil }
        if to.text == "default" { return StaticRoute(destination: "default", via: gateway) }
        guard let (network, prefix) = CIDR.parse(to.text) else {
            errors.append(SpecError(to.location, "'\(to.text)' must be NETWORK/PREFIX or default, e.g. 198.51.100.0/24"))
            return nil
        }
        let canonical = network.network(prefixLength: prefix)
        guard canonical == network else {
            errors.append(SpecError(to.location, "'\(to.text)' has host bits set; did you mean \(canonical)/\(prefix)?"))
            return nil
        }
        guard network.family == gateway.family else {
            errors.append(SpecError(via.location, "the gateway \(gateway) is not of the same address family as \(to.text)"))
            return nil
        }
        return StaticRoute(destination: "\(network)/\(prefix)", via: gateway)
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ item: Item?, _: T.Type, _ name: String,
                                                                   _ errors: inout [SpecError]) -> T? where T.RawValue == String {
        guard let item else { return nil }
        if let value = T(rawValue: item.text) { return value }
        let known = T.allCases.map(\.rawValue).joined(separator: ", ")
        errors.append(SpecError(item.location, "'\(item.text)' is not a choice for \(name); use one of: \(known)"))
        return nil
    }
}

/// The optional spec fields, each consumed by some step kind.
public enum SpecField: String, CaseIterable, Sendable {
    case vips, gateway, mss, addresses, routes, ipv6Forwarding = "ipv6-forwarding", interface, services, ha

    /// How the user spells it: the flag or YAML key.
    public var name: String {
        switch self {
        case .vips: return "vips (--vip)"
        case .gateway: return "gateway (--gateway)"
        case .mss: return "tun.mss (--mss)"
        case .addresses: return "addresses (--address)"
        case .routes: return "routes (--route)"
        case .ipv6Forwarding: return "ipv6-forwarding (--ipv6-forwarding)"
        case .interface: return "interface (--interface)"
        case .services: return "services, timeouts, owns-table, drain and kernel"
        case .ha: return "ha"
        }
    }
}
