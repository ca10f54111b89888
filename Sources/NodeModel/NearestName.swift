/// The known name a mistyped one most likely meant, as the command line suggests for flags.
enum NearestName {
    /// The closest of `known` within two edits (insert, delete, replace or swap of neighbours), or
    /// one that starts with `name` or that `name` starts with; nil when none is close.
    static func suggestion(for name: String, in known: [String]) -> String? {
        let typed = Array(name.lowercased())
        guard !typed.isEmpty else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(typed, Array(candidate.lowercased()), limit: 2)
            if distance <= 2, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        if let best { return best.name }
        let lower = name.lowercased()
        return known.first { lower.count >= 2 && ($0.lowercased().hasPrefix(lower) || lower.hasPrefix($0.lowercased())) }
    }

    /// Optimal string alignment distance; stops early once every path exceeds `limit`.
    static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var before = [Int](repeating: 0, count: b.count + 1)   // row i-2
        var previous = Array(0...b.count)                       // row i-1
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [Int](repeating: 0, count: b.count + 1)
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            if current.min()! > limit { return limit + 1 }
            before = previous
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
