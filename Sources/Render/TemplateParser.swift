/// Parses template text into a `Template`, following the Mustache specification for the tags it
/// supports (variables, sections, inverted sections, comments) and its standalone-line rule: a line
/// holding only whitespace and one section, inverted-section, closing or comment tag disappears whole.
/// Any other tag (partials, delimiter changes, pragmas, blocks, transforms) is refused with where it is,
/// so an operator's template never renders differently from what it says.
enum TemplateParser {
    static func parse(_ text: String) throws(TemplateSyntaxError) -> Template {
        let bytes = Array(text.utf8)
        let tokens = try lex(bytes)
        return Template(nodes: try tree(tokens, standaloneLines(tokens, bytes), bytes))
    }

    private enum Kind { case variable, open, inverted, close, comment }

    private struct Tag {
        let kind: Kind
        let name: Template.Name
        let line: Int
        let column: Int
        /// The tag's own text (`{{#name}}`), for errors.
        let source: String
    }

    private enum Token {
        case text(Range<Int>)
        case tag(Tag)
    }

    private static let open: [UInt8] = Array("{{".utf8)
    private static let close: [UInt8] = Array("}}".utf8)
    private static let tripleClose: [UInt8] = Array("}}}".utf8)

    // MARK: - Tags

    private static func lex(_ bytes: [UInt8]) throws(TemplateSyntaxError) -> [Token] {
        var tokens: [Token] = []
        var position = 0
        var line = 1
        var lineStart = 0
        while let start = find(open, in: bytes, from: position) {
            if start > position { tokens.append(.text(position..<start)) }
            for index in position..<start where bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
            }
            let column = start - lineStart + 1
            func failure(_ reason: String) -> TemplateSyntaxError {
                TemplateSyntaxError(line: line, column: column, reason: reason)
            }
            let triple = start + 2 < bytes.count && bytes[start + 2] == UInt8(ascii: "{")
            let closing = triple ? tripleClose : close
            let contentStart = start + (triple ? 3 : 2)
            guard let end = find(closing, in: bytes, from: contentStart) else {
                throw failure("'\(triple ? "{{{" : "{{")' is never closed by '\(triple ? "}}}" : "}}")'")
            }
            let source = String(decoding: bytes[start..<end + closing.count], as: UTF8.self)
            var content = bytes[contentStart..<end]
            var kind = Kind.variable
            if !triple, let sigil = content.first {
                switch sigil {
                case UInt8(ascii: "#"): kind = .open
                case UInt8(ascii: "^"): kind = .inverted
                case UInt8(ascii: "/"): kind = .close
                case UInt8(ascii: "!"): kind = .comment
                case UInt8(ascii: "&"): kind = .variable
                case UInt8(ascii: ">"): throw failure("\(source): partials are not supported; write the text into this template")
                case UInt8(ascii: "="): throw failure("\(source): changing the delimiters is not supported; keep {{ and }}")
                case UInt8(ascii: "%"): throw failure("\(source): pragmas are not supported; templates are written as plain text, never HTML-escaped")
                case UInt8(ascii: "$"), UInt8(ascii: "<"): throw failure("\(source): blocks and template inheritance are not supported")
                default: break
                }
                if "#^/!&".utf8.contains(sigil) { content = content.dropFirst() }
            }
            let name = kind == .comment ? Template.Name(parts: []) : try parseName(content, source, failure)
            tokens.append(.tag(Tag(kind: kind, name: name, line: line, column: column, source: source)))
            // A comment may span lines: count them so later tags report the right line.
            for index in start..<end where bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
            }
            position = end + closing.count
        }
        if position < bytes.count { tokens.append(.text(position..<bytes.count)) }
        return tokens
    }

    /// `.` or dotted parts of letters, digits, `_` and `-` (every name lvs-node's values have).
    private static func parseName(_ content: ArraySlice<UInt8>, _ source: String,
                                  _ failure: (String) -> TemplateSyntaxError) throws(TemplateSyntaxError) -> Template.Name {
        // Trimmed by index: `reversed().drop(while:).reversed()` made the runtime build nested generic
        // types by name, and check their conformances, on every run.
        var lower = content.startIndex, upper = content.endIndex
        while lower < upper, isWhitespace(content[lower]) { lower += 1 }
        while upper > lower, isWhitespace(content[upper - 1]) { upper -= 1 }
        let text = String(decoding: content[lower..<upper], as: UTF8.self)
        if text == "." { return Template.Name(parts: []) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let allowed = parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        }
        guard allowed else {
            if text.isEmpty { throw failure("\(source) names no value") }
            if text.contains("(") { throw failure("\(source): transforms (name(value)) are not supported") }
            throw failure("\(source): '\(text)' is not a name: use letters, digits, '_' and '-', parts joined by '.', or '.' alone")
        }
        return Template.Name(parts: parts.map(String.init))
    }

    // MARK: - Standalone lines

    /// The byte ranges of the standalone lines, line break included: lines made of blanks and one tag
    /// that writes nothing itself (a section, inverted section, closing or comment). A line with two such
    /// tags stays, as in the specification's reference implementation and (but for its first line) the
    /// swift-mustache lvs-node used before. A line break inside a tag (a long comment) does not end a line.
    private static func standaloneLines(_ tokens: [Token], _ bytes: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var lineStart = 0
        var tags = 0
        var onlyBlanks = true
        for token in tokens {
            switch token {
            case .tag(let tag):
                if tag.kind == .variable { onlyBlanks = false } else { tags += 1 }
            case .text(let range):
                for index in range {
                    switch bytes[index] {
                    case UInt8(ascii: "\n"):
                        if onlyBlanks && tags == 1 { lines.append(lineStart..<index + 1) }
                        lineStart = index + 1
                        tags = 0
                        onlyBlanks = true
                    case UInt8(ascii: " "), UInt8(ascii: "\t"): break
                    case UInt8(ascii: "\r") where index + 1 < range.upperBound && bytes[index + 1] == UInt8(ascii: "\n"): break
                    default: onlyBlanks = false
                    }
                }
            }
        }
        if onlyBlanks && tags == 1 { lines.append(lineStart..<bytes.count) }
        return lines
    }

    // MARK: - Sections

    private static func tree(_ tokens: [Token], _ standalone: [Range<Int>],
                             _ bytes: [UInt8]) throws(TemplateSyntaxError) -> [Template.Node] {
        // The open sections, innermost last, each with the nodes collected inside it so far.
        var open: [(tag: Tag, nodes: [Template.Node])] = []
        var nodes: [Template.Node] = []
        var removed = standalone[...]
        func text(_ range: Range<Int>) -> Template.Node { .text(String(decoding: bytes[range], as: UTF8.self)) }
        for token in tokens {
            switch token {
            case .text(let range):
                // The text less the standalone lines in it (both in ascending order).
                while let line = removed.first, line.upperBound <= range.lowerBound { removed.removeFirst() }
                var start = range.lowerBound
                for line in removed {
                    if line.lowerBound >= range.upperBound { break }
                    if start < line.lowerBound { nodes.append(text(start..<line.lowerBound)) }
                    start = max(start, min(line.upperBound, range.upperBound))
                }
                if start < range.upperBound { nodes.append(text(start..<range.upperBound)) }
            case .tag(let tag):
                switch tag.kind {
                case .comment: break
                case .variable: nodes.append(.variable(tag.name))
                case .open, .inverted:
                    open.append((tag, nodes))
                    nodes = []
                case .close:
                    guard let (opener, outer) = open.popLast() else {
                        throw TemplateSyntaxError(line: tag.line, column: tag.column, reason: "\(tag.source) closes no section")
                    }
                    guard opener.name.parts == tag.name.parts else {
                        throw TemplateSyntaxError(line: tag.line, column: tag.column,
                                                  reason: "\(tag.source) does not match \(opener.source) opened on line \(opener.line); close that first with {{/\(opener.name)}}")
                    }
                    let section = Template.Node.section(opener.name, inverted: opener.kind == .inverted, nodes)
                    nodes = outer + [section]
                }
            }
        }
        if let (opener, _) = open.last {
            throw TemplateSyntaxError(line: opener.line, column: opener.column, reason: "\(opener.source) is never closed by {{/\(opener.name)}}")
        }
        return nodes
    }

    // MARK: - Bytes

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        isBlank(byte) || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
