/// The node spec in cloud-init user-data: the `lvs_node:` key of a cloud-config document, which is
/// the whole user-data (`#cloud-config` …) or one `text/cloud-config` part of a multi-part MIME
/// message (base64 or plain).
public enum UserData {
    public static let key = "lvs_node"

    /// The spec, or nil when no cloud-config document has the key.
    public static func spec(in text: String, source: String) throws -> SpecInput? {
        var found: [YAMLValue] = []
        for (index, document) in try cloudConfigs(in: text, source: source).enumerated() {
            let where_ = "\(source) (cloud-config part \(index + 1))"
            let parsed = try YAMLValue.parse(document, source: where_)
            guard case .map(let pairs) = parsed.content else { continue }
            if let value = pairs.first(where: { $0.key == key })?.value { found.append(value) }
        }
        guard let value = found.first else { return nil }
        if found.count > 1 {
            throw SpecError(source, "\(found.count) cloud-config parts have an \(key) key; keep one")
        }
        return try SpecInput.fromYAML(value)
    }

    /// The cloud-config documents of the user-data.
    static func cloudConfigs(in text: String, source: String) throws -> [String] {
        let normalized = String(text.split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n"))
        if normalized.hasPrefix("#cloud-config") { return [normalized] }
        guard let (headers, body) = split(normalized), let type = headers["content-type"],
              type.lowercased().hasPrefix("multipart/") else { return [] }
        guard let boundary = parameter("boundary", in: type) else {
            throw SpecError(source, "the multi-part user-data has no boundary in its Content-Type")
        }
        var documents: [String] = []
        for part in parts(of: body, boundary: boundary) {
            guard let (partHeaders, partBody) = split(part) else { continue }
            var content = partBody
            if partHeaders["content-transfer-encoding"]?.lowercased() == "base64" {
                guard let bytes = Base64.decode(partBody.filter { !$0.isWhitespace }),
                      let decoded = String(validating: bytes, as: UTF8.self) else {
                    throw SpecError(source, "a base64 part of the user-data does not decode to text")
                }
                content = decoded
            }
            let partType = partHeaders["content-type"]?.lowercased() ?? ""
            if partType.hasPrefix("text/cloud-config") || (partType.isEmpty && content.hasPrefix("#cloud-config")) {
                documents.append(content)
            } else if partType.hasPrefix("multipart/"), let nested = parameter("boundary", in: partType) {
                documents += parts(of: content, boundary: nested).compactMap { split($0).map(\.1) }
            }
        }
        return documents
    }

    /// Headers (lower-cased names) and body of a MIME entity.
    static func split(_ entity: String) -> ([String: String], String)? {
        // The first blank line ends the headers.
        guard let end = zip(entity.indices, entity.indices.dropFirst()).first(where: { entity[$0] == "\n" && entity[$1] == "\n" }) else {
            return nil
        }
        let blank = end.0..<entity.index(after: end.1)
        var headers: [String: String] = [:]
        var last: String?
        for line in entity[..<blank.lowerBound].split(separator: "\n") {
            if line.first == " " || line.first == "\t", let name = last {   // a folded header line
                headers[name, default: ""] += " " + trimmed(line)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = trimmed(line[..<colon]).lowercased()
            headers[name] = trimmed(line[line.index(after: colon)...])
            last = name
        }
        return (headers, String(entity[blank.upperBound...]))
    }

    static func parts(of body: String, boundary: String) -> [String] {
        var parts: [String] = []
        var current: [Substring]?
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "--\(boundary)" || line == "--\(boundary)--" {
                if let current { parts.append(current.joined(separator: "\n")) }
                current = line.hasSuffix("--") && line != "--\(boundary)" ? nil : []
                continue
            }
            current?.append(line)
        }
        return parts
    }

    static func parameter(_ name: String, in header: String) -> String? {
        for field in header.split(separator: ";").dropFirst() {
            let pair = field.split(separator: "=", maxSplits: 1).map(trimmed)
            if pair.count == 2, pair[0].lowercased() == name {
                var value = Substring(pair[1])
                while value.first == "\"" { value.removeFirst() }
                while value.last == "\"" { value.removeLast() }
                return String(value)
            }
        }
        return nil
    }

    /// Without the spaces and tabs around it.
    static func trimmed<Text: StringProtocol>(_ text: Text) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }
}
