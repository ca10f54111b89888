/// Renders a parsed `Template` over values as lvs-node builds them: `[String: Any]` objects, arrays,
/// `Bool`, optionals, structs (read by their stored properties, through `Mirror`), and anything else as
/// its `description`. Names resolve as the Mustache specification says: the first part up the stack of
/// enclosing section values, innermost first; the other parts inside what it found.
struct TemplateRendering {
    private var stack: [Any]
    private(set) var output = ""

    init(_ root: Any) { stack = [root] }

    mutating func render(_ nodes: [Template.Node]) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .variable(let name):
                if let value = lookup(name) { output += Self.text(value) }
            case .section(let name, let inverted, let body):
                let value = lookup(name)
                if inverted {
                    if !Self.isTruthy(value) { render(body) }
                } else if let elements = Self.elements(value) {
                    for element in elements { render(body, within: element) }
                } else if let value, Self.isTruthy(value) {
                    // `{{#flag}}` keeps the enclosing value on top; any other value becomes the top.
                    if value is Bool { render(body) } else { render(body, within: value) }
                }
            }
        }
    }

    private mutating func render(_ nodes: [Template.Node], within value: Any) {
        stack.append(value)
        render(nodes)
        stack.removeLast()
    }

    /// False, a missing value and an empty list render no section (and their inverted section);
    /// anything else, an empty string or zero included, does.
    private static func isTruthy(_ value: Any?) -> Bool {
        guard let value else { return false }
        if let flag = value as? Bool { return flag }
        if let elements = elements(value) { return !elements.isEmpty }
        return true
    }

    // Values are told apart by casts to the concrete types lvs-node builds first. A cast to a protocol
    // (`as? any TemplateList`) makes the Swift runtime scan every conformance record in the binary the
    // first time it meets each type: that was a sixth of the instructions of a small no-op run.

    /// A list's elements; nil for any other value.
    private static func elements(_ value: Any?) -> [Any]? {
        guard let value, !isScalarOrObject(value) else { return nil }
        return (value as? any TemplateList)?.templateElements
    }

    private static func isScalarOrObject(_ value: Any) -> Bool {
        value is String || value is Bool || value is Int || value is [String: Any]
    }

    private static func text(_ value: Any) -> String {
        if let text = value as? String { return text }
        if let number = value as? Int { return String(number) }
        return String(describing: value)
    }

    private func lookup(_ name: Template.Name) -> Any? {
        guard let first = name.parts.first else { return stack.last }
        for object in stack.reversed() {
            guard var value = Self.child(first, of: object) else { continue }
            for part in name.parts.dropFirst() {
                guard let next = Self.child(part, of: value) else { return nil }
                value = next
            }
            return value
        }
        return nil
    }

    private static func child(_ name: String, of object: Any) -> Any? {
        if let keyed = object as? [String: Any] { return unwrapped(keyed[name]) }
        // Text, numbers, flags and collections have no named parts (a collection's Mirror, asked for
        // its children, would walk every element to find no label).
        if object is String || object is Bool || object is Int { return nil }
        let mirror = Mirror(reflecting: object)
        if mirror.displayStyle == .collection || mirror.displayStyle == .dictionary || mirror.displayStyle == .set { return nil }
        guard let field = mirror.children.first(where: { $0.label == name }) else { return nil }
        return unwrapped(field.value)
    }

    /// An optional inside `Any` (a struct's `String?` field, `Optional.none as Any`) as what it holds, or nil.
    private static func unwrapped(_ value: Any?) -> Any? {
        guard let value else { return nil }
        // A cast to a concrete type takes what an optional holds (`String?` as String).
        if let text = value as? String { return text }
        if let flag = value as? Bool { return flag }
        if let number = value as? Int { return number }
        if let object = value as? [String: Any] { return object }
        if let optional = value as? any TemplateOptional { return unwrapped(optional.templateWrapped) }
        return value
    }
}

/// Values a section repeats its body for: arrays.
protocol TemplateList { var templateElements: [Any] { get } }

extension Array: TemplateList {
    var templateElements: [Any] { map { $0 } }
}

private protocol TemplateOptional { var templateWrapped: Any? { get } }

extension Optional: TemplateOptional {
    var templateWrapped: Any? { map { $0 } }
}
