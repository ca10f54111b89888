import ShippedData

/// Renders the files lvs-node writes from `templates/`: an operator's
/// `/etc/lvs-node/templates/NAME.mustache` (under the root) first, else the shipped one.
/// Pure apart from the injected reader; values are written as they are (no HTML escaping). The
/// Mustache subset the templates may use is `TemplateParser`'s; anything else is refused with where it is.
public struct TemplateRenderer: Sendable {
    public let overrideDirectory: String
    public let readFile: @Sendable (String) throws -> String?

    public init(overrideDirectory: String, readFile: @escaping @Sendable (String) throws -> String?) {
        self.overrideDirectory = overrideDirectory
        self.readFile = readFile
    }

    public static var shippedNames: [String] { ShippedData.templates.keys.sorted() }

    public struct Failure: Error, CustomStringConvertible {
        public let template: String
        public let reason: String
        public var description: String { "template \(template): \(reason)" }
    }

    /// The template's source and where it came from.
    public func source(_ name: String) throws -> (text: String, origin: String) {
        let path = "\(overrideDirectory)/\(name).mustache"
        if !name.contains("/"), let text = try readFile(path) { return (text, path) }
        guard let bytes = ShippedData.templates[name] else {
            throw Failure(template: name, reason: "no such template; the templates are: \(Self.shippedNames.joined(separator: ", "))")
        }
        return (String(decoding: bytes, as: UTF8.self), "templates/\(name).mustache")
    }

    public func render(_ name: String, _ context: [String: Any]) throws -> String {
        let (text, origin) = try source(name)
        return try Self.render(text, context, origin: origin)
    }

    /// Renders a template text (also used for paths such as `/etc/init.d/lvs-node-{{role}}`).
    public static func render(_ text: String, _ context: [String: Any], origin: String) throws -> String {
        let template: Template
        do {
            template = try TemplateParser.parse(text)
        } catch {
            throw Failure(template: origin, reason: "cannot be parsed: \(error)")
        }
        var rendering = TemplateRendering(context)
        rendering.render(template.nodes)
        return rendering.output
    }
}
