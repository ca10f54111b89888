import Render
import Testing

/// What the template subset does not support is refused, with the template, the line and the column,
/// before anything is written, instead of rendering something other than what the template says
/// (swift-mustache, used before, rendered a partial as nothing).
@Suite struct TemplateRefusalTests {
    struct Refusal: CustomTestStringConvertible, Sendable {
        let name: String
        let template: String
        let line: Int
        let column: Int
        /// Part of the reason the error gives.
        let reason: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "partial", template: "a\n  {{> header}}\n", line: 2, column: 3, reason: "{{> header}}: partials are not supported"),
        Refusal(name: "delimiter change", template: "{{=<% %>=}}", line: 1, column: 1, reason: "changing the delimiters is not supported"),
        Refusal(name: "pragma", template: "{{% CONTENT_TYPE: HTML}}\nx", line: 1, column: 1, reason: "pragmas are not supported"),
        Refusal(name: "block", template: "{{$title}}x{{/title}}", line: 1, column: 1, reason: "blocks and template inheritance are not supported"),
        Refusal(name: "parent", template: "{{<base}}{{/base}}", line: 1, column: 1, reason: "blocks and template inheritance are not supported"),
        Refusal(name: "transform", template: "x {{uppercased(role)}}", line: 1, column: 3, reason: "transforms (name(value)) are not supported"),
        Refusal(name: "a name with a space", template: "{{#a b}}{{/a b}}", line: 1, column: 1, reason: "'a b' is not a name"),
        Refusal(name: "an empty name part", template: "{{a..b}}", line: 1, column: 1, reason: "'a..b' is not a name"),
        Refusal(name: "no name", template: "x\ny{{ }}", line: 2, column: 2, reason: "{{ }} names no value"),
        Refusal(name: "an unclosed tag", template: "line\n{{role", line: 2, column: 1, reason: "'{{' is never closed by '}}'"),
        Refusal(name: "an unclosed triple mustache", template: "{{{role}}", line: 1, column: 1, reason: "'{{{' is never closed by '}}}'"),
        Refusal(name: "an unclosed section", template: "a\n{{#vips}}\n{{.}}\n", line: 2, column: 1, reason: "{{#vips}} is never closed by {{/vips}}"),
        Refusal(name: "a mismatched closing", template: "{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}", line: 3, column: 1,
                reason: "{{/a}} does not match {{#b}} opened on line 2; close that first with {{/b}}"),
        Refusal(name: "a closing without a section", template: "x {{/a}}", line: 1, column: 3, reason: "{{/a}} closes no section"),
        Refusal(name: "a line after a long comment", template: "{{! one\ntwo }}\n{{>p}}", line: 3, column: 1, reason: "partials"),
    ]

    @Test(arguments: refusals) func isRefusedWithItsPlace(_ refusal: Refusal) {
        do {
            let output = try TemplateRenderer.render(refusal.template, ["role": "director"], origin: "/etc/lvs-node/templates/x.mustache")
            Issue.record("rendered \(output.debugDescription) instead of refusing")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix("template /etc/lvs-node/templates/x.mustache: cannot be parsed: line \(refusal.line), column \(refusal.column): "), "\(text)")
            #expect(text.contains(refusal.reason), "\(text)")
        }
    }

    /// An operator's override names its own file in the error, so the operator knows which one to fix.
    @Test func anOperatorsOverrideWithAPartialIsRefusedNamingTheFile() {
        let renderer = TemplateRenderer(overrideDirectory: "/etc/lvs-node/templates") { path in
            path == "/etc/lvs-node/templates/sysctl.conf.mustache" ? "# site\n{{> header}}\n{{#sysctls}}{{name}} = {{value}}\n{{/sysctls}}" : nil
        }
        #expect(throws: TemplateRenderer.Failure.self) { try renderer.render("sysctl.conf", ["sysctls": [["name": "a", "value": "1"]]]) }
        do {
            _ = try renderer.render("sysctl.conf", [:])
        } catch {
            #expect("\(error)" == "template /etc/lvs-node/templates/sysctl.conf.mustache: cannot be parsed: line 2, column 1: {{> header}}: partials are not supported; write the text into this template")
        }
    }

    /// Every shipped template parses (and so stays inside the subset).
    @Test(arguments: TemplateRenderer.shippedNames) func everyShippedTemplateIsInTheSubset(_ name: String) throws {
        let renderer = TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil }
        _ = try renderer.render(name, [:])
    }
}
