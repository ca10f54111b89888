/// A YAML tree that remembers where each value stood, so every error can say "file line N".
/// Scalars stay text: the schema, not the YAML resolver, decides what a value means.
/// `YAMLReader` builds it from libyaml's events, refusing anchors and aliases before anything is expanded.
public struct YAMLValue: Sendable {
    public enum Content: Sendable {
        case scalar(String)
        case list([YAMLValue])
        case map([(key: String, value: YAMLValue)])
        case null
    }

    public let content: Content
    /// The file (or flag) the value came from, shared by every value of a document.
    let source: String
    /// 1-based; 0 when the value stands for the whole source (an empty document).
    let line: Int
    /// For a mapping's value, the line of its key: a block value starts on the line after it.
    let keyLine: Int?

    /// e.g. `node.yaml line 4`, built only when asked for (a large spec has a million values).
    public var location: String { line == 0 ? source : "\(source) line \(line)" }

    /// Where the key of this mapping value stands (`tunn:` itself, not the block under it).
    public var keyLocation: String { keyLine.map { "\(source) line \($0)" } ?? location }

    public static func parse(_ text: String, source: String) throws -> YAMLValue {
        try YAMLReader.read(Array(text.utf8), source: source)
    }

    /// `bytes` as read from a file: libyaml checks they are UTF-8 and free of control characters.
    public static func parse(bytes: [UInt8], source: String) throws -> YAMLValue {
        try YAMLReader.read(bytes, source: source)
    }

    init(content: Content, source: String, line: Int, keyLine: Int? = nil) {
        self.content = content
        self.source = source
        self.line = line
        self.keyLine = keyLine
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
            let guess = NearestName.suggestion(for: unknown.key, in: allowed).map { "did you mean '\($0)'? " } ?? ""
            throw SpecError(unknown.value.keyLocation,
                            "unknown key '\(unknown.key)' in \(what()); \(guess)the known keys are: \(allowed.joined(separator: ", "))")
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
