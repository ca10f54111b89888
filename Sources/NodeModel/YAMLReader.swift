import CYAML
import Glibc

/// Builds a `YAMLValue` from libyaml's events, in time and memory linear in the input: an anchor or
/// alias is refused at the first one (a 1 KB "billion laughs" document expands to gigabytes), a
/// document is nested at most `maximumDepth` deep and holds at most `maximumValues` values, a NUL
/// inside a value is refused rather than cut off, and a key given twice in one mapping is an error.
enum YAMLReader {
    /// Far deeper than any spec or cloud-config, shallow enough for any stack.
    static let maximumDepth = 64
    /// A director spec of 10,000 services with ten real servers each holds under a million.
    static let maximumValues = 4_000_000

    static func read(_ bytes: [UInt8], source: String) throws -> YAMLValue {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw SpecError(source, "out of memory starting the YAML parser") }
        defer { yaml_parser_delete(&parser) }
        // libyaml wants a non-null pointer even for no input.
        let input = bytes.isEmpty ? [0] : bytes
        return try input.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, bytes.count)
            var builder = Builder(source: source)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser, bytes, source: source) }
                defer { yaml_event_delete(&event) }
                if try builder.take(event) { return builder.document ?? YAMLValue(content: .null, source: source, line: 0) }
            }
        }
    }

    /// libyaml's own words, with the line: reader errors (bad UTF-8, control characters) give a byte offset.
    private static func syntaxError(_ parser: yaml_parser_t, _ bytes: [UInt8], source: String) -> SpecError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        let line: Int
        if parser.error == YAML_READER_ERROR {
            line = 1 + bytes.prefix(min(parser.problem_offset, bytes.count)).lazy.filter { $0 == 0x0a }.count
        } else {
            line = parser.problem_mark.line + 1
        }
        let context = parser.context.map { " \(String(cString: $0))" } ?? ""
        return SpecError("\(source) line \(line)", "this is not valid YAML: \(problem)\(context)")
    }

    /// The values under construction: one frame per open list or mapping.
    private struct Builder {
        /// A mapping's pending key waits with its line for its value. Duplicate keys are looked for
        /// among the pairs while there are few (a real server's `{address: …}` has one or two: a
        /// dictionary each was a tenth of reading a large spec), in `seen` once there are many.
        enum Kind { case list([YAMLValue]), map([(key: String, value: YAMLValue)], pending: (key: String, line: Int)?, seen: [String: Int]) }
        static let keysSearchedInPlace = 16
        struct Frame { var kind: Kind; let line: Int }

        let source: String
        var stack: [Frame] = []
        var document: YAMLValue?
        var documents = 0
        var values = 0

        init(source: String) { self.source = source }

        func location(_ line: Int) -> String { "\(source) line \(line)" }

        /// Takes one event; true at the end of the stream.
        mutating func take(_ event: yaml_event_t) throws -> Bool {
            let line = event.start_mark.line + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return true
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw SpecError(location(line), "a second YAML document starts here; give one document (no second '---')")
                }
            case YAML_ALIAS_EVENT:
                throw SpecError(location(line), "YAML aliases (*name) are not accepted; write the value out where it is used")
            case YAML_SCALAR_EVENT:
                try refuseAnchor(event.data.scalar.anchor, line)
                let scalar = event.data.scalar
                // memchr on libyaml's bytes: walking each value's UTF8View was 8 M instructions of a large spec.
                if scalar.length > 0, memchr(scalar.value, 0, scalar.length) != nil {
                    throw SpecError(location(line), "this value holds a NUL character (\\0), which no setting may contain; remove it")
                }
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                // A plain (unquoted) ~ or null is YAML's null; anything else is kept as written.
                let isNull = scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar.length <= 4
                    && (text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL")
                try add(YAMLValue(content: isNull ? .null : .scalar(text), source: source, line: line), key: text)
            case YAML_SEQUENCE_START_EVENT:
                try refuseAnchor(event.data.sequence_start.anchor, line)
                try open(.list([]), line)
            case YAML_MAPPING_START_EVENT:
                try refuseAnchor(event.data.mapping_start.anchor, line)
                try open(.map([], pending: nil, seen: [:]), line)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let frame = stack.removeLast()
                let content: YAMLValue.Content
                switch frame.kind {
                case .list(let items): content = .list(items)
                case .map(let pairs, _, _): content = .map(pairs)
                }
                try add(YAMLValue(content: content, source: source, line: frame.line), key: nil)
            default:
                break
            }
            return false
        }

        private func refuseAnchor(_ anchor: UnsafeMutablePointer<yaml_char_t>?, _ line: Int) throws {
            guard let anchor else { return }
            let name = String(cString: anchor)
            throw SpecError(location(line), "YAML anchors (&\(name)) are not accepted; write each value out where it is used")
        }

        private mutating func open(_ kind: Kind, _ line: Int) throws {
            if case .map(_, nil, _)? = stack.last?.kind {
                throw SpecError(location(line), "a key must be plain text, not a list or mapping")
            }
            guard stack.count < maximumDepth else {
                throw SpecError(location(line), "the YAML is nested more than \(maximumDepth) levels deep here; no spec needs that")
            }
            stack.append(Frame(kind: kind, line: line))
        }

        /// Puts a finished value where it belongs: the document, a list, or a mapping's key or value.
        /// `key`: the scalar's text as written, should it be a key.
        private mutating func add(_ value: YAMLValue, key: String?) throws {
            values += 1
            guard values <= maximumValues else {
                throw SpecError(location(value.line), "the YAML holds more than \(maximumValues) values; split it or make it smaller")
            }
            guard let top = stack.indices.last else {
                document = value
                return
            }
            switch stack[top].kind {
            case .list(var items):
                stack[top].kind = .list([])   // keeps `items` uniquely referenced: appending stays O(1)
                items.append(value)
                stack[top].kind = .list(items)
            case .map(var pairs, let pending, var seen):
                stack[top].kind = .list([])
                if let pending {
                    pairs.append((pending.key, YAMLValue(content: value.content, source: source, line: value.line, keyLine: pending.line)))
                    if !seen.isEmpty {
                        seen[pending.key] = pending.line
                    } else if pairs.count == Self.keysSearchedInPlace {
                        for pair in pairs { seen[pair.key] = pair.value.keyLine }
                    }
                    stack[top].kind = .map(pairs, pending: nil, seen: seen)
                } else {
                    guard let key else { throw SpecError(location(value.line), "a key must be plain text, not a list or mapping") }
                    let first = seen.isEmpty ? pairs.first(where: { $0.key == key })?.value.keyLine : seen[key]
                    if let first {
                        throw SpecError(location(value.line), "the key '\(key)' is given twice in one mapping (first at line \(first)); keep one")
                    }
                    stack[top].kind = .map(pairs, pending: (key, value.line), seen: seen)
                }
            }
        }
    }
}
