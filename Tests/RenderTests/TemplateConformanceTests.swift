import Render
import Testing

/// The Mustache subset lvs-node's templates may use, case by case in the style of the Mustache
/// specification (https://github.com/mustache/spec: name, template, data, expected), most cases taken
/// from it. Where lvs-node deliberately differs from the specification, the case says so: nothing is
/// HTML-escaped (the files are configuration, not HTML), and empty strings and zero are values.
@Suite struct TemplateConformanceTests {
    struct Case: CustomTestStringConvertible, @unchecked Sendable {
        let name: String
        let template: String
        let data: [String: Any]
        let expected: String
        var testDescription: String { name }

        init(_ name: String, _ template: String, _ data: [String: Any], _ expected: String) {
            self.name = name
            self.template = template
            self.data = data
            self.expected = expected
        }

        init(_ name: String, _ template: String, _ expected: String) { self.init(name, template, [:], expected) }
    }

    /// A struct as lvs-node passes them (`TemplateAddress`): read by its stored properties.
    struct Address {
        let cidr: String
        let label: String?
    }

    static let interpolationCases: [Case] = [
        Case("no interpolation", "Hello from {Mustache}!\n", "Hello from {Mustache}!\n"),
        Case("basic interpolation", "Hello, {{subject}}!\n", ["subject": "world"], "Hello, world!\n"),
        Case("no HTML escaping (unlike the specification)", "{{forbidden}}", ["forbidden": "& \" < >"], "& \" < >"),
        Case("triple mustache", "{{{forbidden}}}", ["forbidden": "& \" < >"], "& \" < >"),
        Case("ampersand", "{{&forbidden}}", ["forbidden": "& \" < >"], "& \" < >"),
        Case("integer", "\"{{mph}} miles an hour!\"", ["mph": 85], "\"85 miles an hour!\""),
        Case("boolean", "{{flag}}", ["flag": true], "true"),
        Case("a missing value is empty", "I ({{cannot}}) be seen!", "I () be seen!"),
        Case("a nil optional is empty, not 'nil'", "I ({{cannot}}) be seen!", ["cannot": String?.none as Any], "I () be seen!"),
        Case("whitespace inside the tag", "|{{ string }}|{{{ string }}}|{{& string }}|", ["string": "---"], "|---|---|---|"),
        Case("a variable never makes a line standalone", "  {{string}}\n", ["string": "---"], "  ---\n"),
        Case("a variable's line break stays", "{{a}}\n{{b}}\n", ["a": 1, "b": 2], "1\n2\n"),
    ]

    static let dottedNamesCases: [Case] = [
        Case("dotted names", "\"{{person.name}}\" == \"{{#person}}{{name}}{{/person}}\"", ["person": ["name": "Joe"]], "\"Joe\" == \"Joe\""),
        Case("arbitrary depth", "\"{{a.b.c.d.e.name}}\"", ["a": ["b": ["c": ["d": ["e": ["name": "Phil"]]]]]], "\"Phil\""),
        Case("broken chains", "\"{{a.b.c}}\"", ["a": [String: Any]()], "\"\""),
        Case("broken chain resolution", "\"{{a.b.c.name}}\"", ["a": ["b": [String: Any]()], "c": ["name": "Jim"]], "\"\""),
        Case("initial resolution", "\"{{#a}}{{b.c.d.e.name}}{{/a}}\"",
             ["a": ["b": ["c": ["d": ["e": ["name": "Phil"]]]]], "b": ["c": ["d": ["e": ["name": "Wrong"]]]]], "\"Phil\""),
        Case("context precedence", "{{#a}}{{b.c}}{{/a}}", ["a": ["b": [String: Any]()], "b": ["c": "ERROR"]], ""),
        Case("a struct's fields", "{{#addresses}}{{cidr}}{{#label}} {{label}}{{/label}};{{/addresses}}",
             ["addresses": [Address(cidr: "192.0.2.10/32", label: "lo:0"), Address(cidr: "2001:db8::10/128", label: nil)]],
             "192.0.2.10/32 lo:0;2001:db8::10/128;"),
    ]

    static let sectionsCases: [Case] = [
        Case("truthy", "\"{{#boolean}}This should be rendered.{{/boolean}}\"", ["boolean": true], "\"This should be rendered.\""),
        Case("falsey", "\"{{#boolean}}This should not be rendered.{{/boolean}}\"", ["boolean": false], "\"\""),
        Case("context misses are falsey", "[{{#missing}}Found key 'missing'!{{/missing}}]", "[]"),
        Case("nil is falsey", "\"{{#null}}This should not be rendered.{{/null}}\"", ["null": String?.none as Any], "\"\""),
        Case("empty lists are falsey", "\"{{#list}}Yay lists!{{/list}}\"", ["list": [Any]()], "\"\""),
        Case("an empty string is a value (as lvs-node always had it)", "[{{#s}}<{{.}}>{{/s}}]", ["s": ""], "[<>]"),
        Case("zero is a value", "[{{#n}}{{.}}{{/n}}]", ["n": 0], "[0]"),
        Case("context", "\"{{#context}}Hi {{name}}.{{/context}}\"", ["context": ["name": "Joe"]], "\"Hi Joe.\""),
        Case("parent contexts", "\"{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}\"",
             ["a": "foo", "b": "wrong", "sec": ["b": "bar"], "c": ["d": "baz"]], "\"foo, bar, baz\""),
        Case("variable test", "\"{{#foo}}{{.}} is {{foo}}{{/foo}}\"", ["foo": "bar"], "\"bar is bar\""),
        Case("list", "\"{{#list}}{{item}}{{/list}}\"", ["list": [["item": 1], ["item": 2], ["item": 3]]], "\"123\""),
        Case("implicit iterator over strings", "\"{{#list}}({{.}}){{/list}}\"", ["list": ["a", "b", "c", "d", "e"]], "\"(a)(b)(c)(d)(e)\""),
        Case("implicit iterator over integers", "\"{{#list}}({{.}}){{/list}}\"", ["list": [1, 2, 3]], "\"(1)(2)(3)\""),
        Case("nested truthy", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", ["bool": true], "| A B C D E |"),
        Case("doubled", "{{#bool}}\n* first\n{{/bool}}\n* {{two}}\n{{#bool}}\n* third\n{{/bool}}\n", ["bool": true, "two": "second"],
             "* first\n* second\n* third\n"),
        Case("dotted names, truthy", "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"Here\"", ["a": ["b": ["c": true]]], "\"Here\" == \"Here\""),
        Case("dotted names, broken chains", "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"\"", ["a": [String: Any]()], "\"\" == \"\""),
        Case("surrounding whitespace", " | {{#boolean}}\t|\t{{/boolean}} | \n", ["boolean": true], " | \t|\t | \n"),
        Case("internal whitespace", " | {{#boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n", ["boolean": true], " |  \n  | \n"),
        Case("indented inline sections", " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n", ["boolean": true], " YES\n GOOD\n"),
        Case("standalone lines", "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n", ["boolean": true], "| This Is\n|\n| A Line\n"),
        Case("indented standalone lines", "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n", ["boolean": true], "| This Is\n|\n| A Line\n"),
        Case("standalone line endings", "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", ["boolean": true], "|\r\n|"),
        Case("standalone on the first line leaves no blank line", "{{#boolean}}\n#{{/boolean}}\n/", ["boolean": true], "#\n/"),
        Case("standalone without previous line", "  {{#boolean}}\n#{{/boolean}}\n/", ["boolean": true], "#\n/"),
        Case("standalone without newline", "#{{#boolean}}\n/\n  {{/boolean}}", ["boolean": true], "#\n/\n"),
        Case("two tags on a line are not standalone", "{{#a}}{{#b}}\nx\n{{/b}}{{/a}}\n", ["a": true, "b": true], "\nx\n\n"),
        Case("padding", "|{{# boolean }}={{/ boolean }}|", ["boolean": true], "|=|"),
    ]

    static let invertedSectionsCases: [Case] = [
        Case("falsey", "\"{{^boolean}}This should be rendered.{{/boolean}}\"", ["boolean": false], "\"This should be rendered.\""),
        Case("truthy", "\"{{^boolean}}This should not be rendered.{{/boolean}}\"", ["boolean": true], "\"\""),
        Case("nil is falsey", "\"{{^null}}This should be rendered.{{/null}}\"", ["null": String?.none as Any], "\"This should be rendered.\""),
        Case("a struct's nil field is falsey", "{{#a}}{{^label}}none{{/label}}{{/a}}", ["a": Address(cidr: "x", label: nil)], "none"),
        Case("context misses", "[{{^missing}}Found key 'missing'!{{/missing}}]", "[Found key 'missing'!]"),
        Case("empty list", "\"{{^list}}Yay lists!{{/list}}\"", ["list": [Any]()], "\"Yay lists!\""),
        Case("list", "\"{{^list}}{{n}}{{/list}}\"", ["list": [["n": 1]]], "\"\""),
        Case("an empty string is a value", "[{{^s}}none{{/s}}]", ["s": ""], "[]"),
        Case("dotted names, falsey", "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"", ["a": ["b": ["c": false]]], "\"Not Here\" == \"Not Here\""),
        Case("dotted names, broken chains", "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"", ["a": [String: Any]()],
             "\"Not Here\" == \"Not Here\""),
        Case("standalone lines", "| This Is\n{{^boolean}}\n|\n{{/boolean}}\n| A Line\n", ["boolean": false], "| This Is\n|\n| A Line\n"),
        Case("standalone indented lines", "| This Is\n  {{^boolean}}\n|\n  {{/boolean}}\n| A Line\n", ["boolean": false],
             "| This Is\n|\n| A Line\n"),
    ]

    static let commentsCases: [Case] = [
        Case("inline", "12345{{! Comment Block! }}67890", "1234567890"),
        Case("multiline", "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n", "1234567890\n"),
        Case("standalone", "Begin.\n{{! Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"),
        Case("indented standalone", "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"),
        Case("standalone line endings", "|\r\n{{! Standalone Comment }}\r\n|", "|\r\n|"),
        Case("standalone without newline", "!\n  {{! I'm Still Standalone }}", "!\n"),
        Case("multiline standalone", "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n", "Begin.\nEnd.\n"),
        Case("indented inline", "  12 {{! 34 }}\n", "  12 \n"),
        Case("surrounding whitespace", "12345 {{! Comment Block! }} 67890", "12345  67890"),
    ]

    static func render(_ template: String, _ data: [String: Any] = [:]) throws -> String {
        try TemplateRenderer.render(template, data, origin: "test.mustache")
    }

    @Test(arguments: interpolationCases) func interpolation(_ test: Case) throws {
        #expect(try Self.render(test.template, test.data) == test.expected)
    }

    @Test(arguments: dottedNamesCases) func dottedNames(_ test: Case) throws {
        #expect(try Self.render(test.template, test.data) == test.expected)
    }

    @Test(arguments: sectionsCases) func sections(_ test: Case) throws {
        #expect(try Self.render(test.template, test.data) == test.expected)
    }

    @Test(arguments: invertedSectionsCases) func invertedSections(_ test: Case) throws {
        #expect(try Self.render(test.template, test.data) == test.expected)
    }

    @Test(arguments: commentsCases) func comments(_ test: Case) throws {
        #expect(try Self.render(test.template, test.data) == test.expected)
    }
}
