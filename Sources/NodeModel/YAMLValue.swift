import Yams

/// A YAML tree that remembers where each value stood, so every error can say "file line N".
/// Scalars stay text: the schema, not the YAML resolver, decides what a value means.
public struct YAMLValue: Sendable {
    public enum Content: Sendable {
        case scalar(String)
        case list([YAMLValue])
        case map([(key: String, value: YAMLValue)])
        case null
    }

    public let content: Content
    /// e.g. `node.yaml line 4`.
    public let location: String

    /// Nothing is constructed into Swift values, so no tag table is needed.
    nonisolated(unsafe) private static let constructor = Constructor([:], [:], [:])

    public static func parse(_ text: String, source: String) throws -> YAMLValue {
        let node: Node?
        do {
            // The basic resolver: scalars stay text (the schema decides), and the default one's regular
            // expressions would cost more start-up than the whole run.
            node = try Yams.compose(yaml: text, .basic, Self.constructor)
        } catch let error as YamlError {
            throw SpecError(source, "this is not valid YAML: \(error)")
        }
        guard let node else { return YAMLValue(content: .null, location: source) }
        return try YAMLValue(node, source: source)
    }

    init(content: Content, location: String) {
        self.content = content
        self.location = location
    }

    private init(_ node: Node, source: String) throws {
        location = node.mark.map { "\(source) line \($0.line)" } ?? source
        switch node {
        case .scalar(let scalar):
            // An unquoted ~ or null is YAML's null; anything else is kept as written.
            let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            content = isNull ? .null : .scalar(scalar.string)
        case .sequence(let sequence):
            content = .list(try sequence.map { try YAMLValue($0, source: source) })
        case .mapping(let mapping):
            var pairs: [(key: String, value: YAMLValue)] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    throw SpecError(location, "a key must be plain text")
                }
                pairs.append((name, try YAMLValue(value, source: source)))
            }
            content = .map(pairs)
        case .alias:
            throw SpecError(location, "YAML aliases are not supported here; write the value out")
        }
    }

    /// What kind of value this is, for error messages.
    public var kindName: String {
        switch content {
        case .scalar: return "a single value"
        case .list: return "a list"
        case .map: return "a mapping"
        case .null: return "nothing"
        }
    }

    // MARK: typed access with errors that say where and what was expected
    // (`what` is built only for an error: a large spec asks tens of thousands of times)

    public func string(_ what: @autoclosure () -> String) throws -> String {
        guard case .scalar(let text) = content else {
            throw SpecError(location, "\(what()) must be a single value, but this is \(kindName)")
        }
        return text
    }

    public func list(_ what: @autoclosure () -> String) throws -> [YAMLValue] {
        guard case .list(let items) = content else {
            throw SpecError(location, "\(what()) must be a list, but this is \(kindName)")
        }
        return items
    }

    /// The mapping's entries after checking every key is one of `allowed`.
    public func map(_ what: @autoclosure () -> String, allowed: [String]) throws -> [(key: String, value: YAMLValue)] {
        guard case .map(let pairs) = content else {
            throw SpecError(location, "\(what()) must be a mapping of keys to values, but this is \(kindName)")
        }
        if let unknown = pairs.first(where: { !allowed.contains($0.key) }) {
            throw SpecError(unknown.value.location,
                            "unknown key '\(unknown.key)' in \(what()); the known keys are: \(allowed.joined(separator: ", "))")
        }
        return pairs
    }

    /// Mapping entries with any keys (for tables such as sysctl values).
    public func anyMap(_ what: @autoclosure () -> String) throws -> [(key: String, value: YAMLValue)] {
        guard case .map(let pairs) = content else {
            throw SpecError(location, "\(what()) must be a mapping of keys to values, but this is \(kindName)")
        }
        return pairs
    }
}
