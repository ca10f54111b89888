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
                if let value = lookup(name) { output += String(describing: value) }
            case .section(let name, let inverted, let body):
                let value = lookup(name)
                if inverted {
                    if !Self.isTruthy(value) { render(body) }
                } else if let list = value as? any TemplateList {
                    for element in list.templateElements { render(body, within: element) }
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
        switch value {
        case nil: false
        case let flag as Bool: flag
        case let list as any TemplateList: !list.templateElements.isEmpty
        default: true
        }
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
        if let keyed = object as? any TemplateKeyed { return unwrapped(keyed.templateValue(name)) }
        // Text, numbers, flags and lists have no named parts.
        if object is String || object is Bool || object is any BinaryInteger || object is any TemplateList { return nil }
        guard let field = Mirror(reflecting: object).children.first(where: { $0.label == name }) else { return nil }
        return unwrapped(field.value)
    }

    /// An optional inside `Any` (a struct's `String?` field, `Optional.none as Any`) as what it holds, or nil.
    private static func unwrapped(_ value: Any?) -> Any? {
        guard let value else { return nil }
        if let optional = value as? any TemplateOptional { return unwrapped(optional.templateWrapped) }
        return value
    }
}

/// Values with named parts other than structs: `[String: …]` dictionaries.
protocol TemplateKeyed { func templateValue(_ name: String) -> Any? }

extension Dictionary: TemplateKeyed where Key == String {
    func templateValue(_ name: String) -> Any? { self[name] }
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
