/// The node spec in cloud-init user-data: the `lvs_node:` key of a cloud-config document, which is
/// the whole user-data (`#cloud-config` …) or one `text/cloud-config` part of a multi-part MIME
/// message (base64 or plain).
public enum UserData {
    public static let key = "lvs_node"

    /// The spec, or nil when no cloud-config document has the key.
    public static func spec(in text: String, source: String) throws -> SpecInput? {
        try spec(in: Array(text.utf8), source: source)
    }

    /// The spec from the user-data's bytes as stored: gzip-compressed user-data (Terraform's
    /// `cloudinit_config` with `gzip = true`) is decompressed first, as cloud-init does.
    public static func spec(in bytes: [UInt8], source: String) throws -> SpecInput? {
        var found: [YAMLValue] = []
        for (index, document) in try cloudConfigs(in: bytes, source: source).enumerated() {
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

    /// The gzip media types cloud-init decompresses a part of.
    static let gzipTypes: Set<String> = ["application/gzip", "application/gzip-compressed", "application/gzipped", "application/x-compress",
                                         "application/x-compressed", "application/x-gunzip", "application/x-gzip", "application/x-gzip-compressed"]
    /// Types whose part is recognised by how it starts (`#cloud-config`), as cloud-init does.
    static let typesFromContent: Set<String> = ["", "text/plain", "text/x-not-multipart"]

    /// The cloud-config documents of the user-data: the whole of it (gzip-compressed or not), or the
    /// cloud-config parts of a MIME message, nested ones included.
    static func cloudConfigs(in bytes: [UInt8], source: String) throws -> [String] {
        let data = try decompressed(bytes, what: "the user-data", source: source)
        guard let text = String(validating: data, as: UTF8.self) else {
            throw SpecError(source, "the user-data is neither UTF-8 text nor gzip-compressed")
        }
        let normalized = String(text.split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n"))
        if normalized.hasPrefix("#cloud-config") { return [normalized] }
        guard let (headers, _) = split(normalized), mediaType(headers["content-type"]).hasPrefix("multipart/") else { return [] }
        var documents: [String] = []
        try collect(normalized, source: source, into: &documents)
        return documents
    }

    /// One MIME entity: a multipart one's parts each in turn (however deep), any other decoded
    /// (base64, gzip) and kept if it is cloud-config, by its type or, untyped, by how it starts.
    private static func collect(_ entity: String, source: String, depth: Int = 0, into documents: inout [String]) throws {
        guard let (headers, body) = split(entity) else { return }
        let type = mediaType(headers["content-type"])
        if type.hasPrefix("multipart/") {
            guard depth < maximumNesting else {
                throw SpecError(source, "the user-data nests multi-part messages more than \(maximumNesting) deep")
            }
            // The boundary keeps its case: it is compared byte for byte.
            guard let boundary = headers["content-type"].flatMap({ parameter("boundary", in: $0) }) else {
                throw SpecError(source, "a multi-part part of the user-data has no boundary in its Content-Type")
            }
            for part in parts(of: body, boundary: boundary) {
                try collect(part, source: source, depth: depth + 1, into: &documents)
            }
            return
        }
        var payload = Array(body.utf8)
        if headers["content-transfer-encoding"]?.lowercased() == "base64" {
            guard let bytes = Base64.decode(body.filter { !$0.isWhitespace }) else {
                throw SpecError(source, "a base64 part of the user-data does not decode")
            }
            payload = bytes
        }
        var partType = type
        if gzipTypes.contains(type) {
            payload = try decompressed(payload, what: "a \(type) part of the user-data", source: source, required: true)
            partType = ""
        }
        guard partType == "text/cloud-config" || (typesFromContent.contains(partType) && payload.starts(with: Array("#cloud-config".utf8))) else {
            return
        }
        guard let content = String(validating: payload, as: UTF8.self) else {
            throw SpecError(source, "a cloud-config part of the user-data is not UTF-8 text")
        }
        documents.append(content)
    }

    /// Far deeper than any tool nests; shallow enough for any stack.
    static let maximumNesting = 16

    /// `bytes` decompressed when they start with gzip's magic (or must be gzip), else as they are.
    private static func decompressed(_ bytes: [UInt8], what: String, source: String, required: Bool = false) throws -> [UInt8] {
        guard required || Gzip.isCompressed(bytes) else { return bytes }
        do {
            return try Gzip.decompress(bytes)
        } catch let failure as Gzip.Failure {
            throw SpecError(source, "\(what) is gzip-compressed but cannot be decompressed: \(failure)")
        }
    }

    /// `text/cloud-config; charset="utf-8"` → `text/cloud-config`; nil → "".
    static func mediaType(_ header: String?) -> String {
        guard let header else { return "" }
        return trimmed(header.prefix { $0 != ";" }).lowercased()
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
