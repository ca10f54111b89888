/// A parsed template: the subset of Mustache (https://mustache.github.io/mustache.5.html) lvs-node's
/// templates use, as a tree. `TemplateParser` makes it; `TemplateContext` renders it.
struct Template: Sendable {
    let nodes: [Node]

    indirect enum Node: Sendable {
        /// Literal text, written as it is.
        case text(String)
        /// `{{name}}`, `{{{name}}}` or `{{& name}}`: the value as text. lvs-node writes configuration files,
        /// not HTML, so none of them escapes anything.
        case variable(Name)
        /// `{{#name}}…{{/name}}` (once per list element, once for any other value, never for false,
        /// a missing value or an empty list) or `{{^name}}…{{/name}}` (only for those).
        case section(Name, inverted: Bool, [Node])
    }

    /// A tag's name: `.` (the current value, no parts) or dotted parts (`ha.vips`).
    struct Name: Sendable, CustomStringConvertible {
        let parts: [String]
        var description: String { parts.isEmpty ? "." : parts.joined(separator: ".") }
    }
}

/// A template that cannot be parsed: where (line and column, from 1) and why.
/// `TemplateRenderer` reports it as a `Failure` naming the template.
struct TemplateSyntaxError: Error, CustomStringConvertible {
    let line: Int
    let column: Int
    let reason: String
    var description: String { "line \(line), column \(column): \(reason)" }
}
