/// The list options given many times (`--vip` ×1000). argument-parser takes time quadratic in how often
/// one option repeats (every value re-merges the origins of the ones before it), so a thousand `--vip`
/// flags cost eight times the same VIPs in a file. Past a handful, the entry point takes them out of the
/// arguments in one pass and `SpecOptions` reads them from here; a few still go through argument-parser,
/// with its usual errors.
enum RepeatedOptions {
    static let names = ["--vip", "--address", "--route"]
    /// Taken out by `extract`, by option name.
    nonisolated(unsafe) static var taken: [String: [String]] = [:]
    private static let threshold = 16

    /// The arguments without the values of any list option given more than `threshold` times.
    static func extract(_ arguments: [String]) -> [String] {
        let end = arguments.firstIndex(of: "--") ?? arguments.endIndex
        var counts: [String: Int] = [:]
        for argument in arguments[..<end] {
            if let name = name(of: argument) { counts[name, default: 0] += 1 }
        }
        let many = Set(counts.filter { $0.value > threshold }.keys)
        guard !many.isEmpty else { return arguments }
        var kept: [String] = []
        kept.reserveCapacity(arguments.count)
        var index = arguments.startIndex
        while index < end {
            let argument = arguments[index]
            if let name = name(of: argument), many.contains(name) {
                if argument.hasPrefix(name + "=") {
                    taken[name, default: []].append(String(argument.dropFirst(name.count + 1)))
                } else if index + 1 < end {
                    taken[name, default: []].append(arguments[index + 1])
                    index += 1
                } else {
                    kept.append(argument)   // no value: argument-parser says so
                }
            } else {
                kept.append(argument)
            }
            index += 1
        }
        return kept + arguments[end...]
    }

    /// Compared on UTF-8 bytes: asked of every argument, thousands with a thousand `--vip` flags.
    private static func name(of argument: String) -> String? {
        let utf8 = argument.utf8
        guard utf8.starts(with: "--".utf8) else { return nil }
        return names.first { name in
            utf8.starts(with: name.utf8)
                && (utf8.count == name.utf8.count || utf8[utf8.index(utf8.startIndex, offsetBy: name.utf8.count)] == UInt8(ascii: "="))
        }
    }
}
