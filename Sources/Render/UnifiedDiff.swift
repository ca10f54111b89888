/// `diff -u` style hunks between two texts, for plan and status output.
public enum UnifiedDiff {
    public static func lines(from old: String, to new: String, oldName: String, newName: String, context: Int = 3) -> [String] {
        let a = split(old), b = split(new)
        // Which lines of each side are kept, from the standard library's difference.
        var removedA = Set<Int>(), insertedB = Set<Int>()
        for change in b.difference(from: a) {
            switch change {
            case .remove(let offset, _, _): removedA.insert(offset)
            case .insert(let offset, _, _): insertedB.insert(offset)
            }
        }
        // Walk both sides in step into one edit script: (" ", "-", "+") with line numbers.
        var script: [(tag: Character, text: String, a: Int, b: Int)] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count && removedA.contains(i) {
                script.append(("-", a[i], i, j)); i += 1
            } else if j < b.count && insertedB.contains(j) {
                script.append(("+", b[j], i, j)); j += 1
            } else {
                script.append((" ", a[i], i, j)); i += 1; j += 1
            }
        }
        guard script.contains(where: { $0.tag != " " }) else { return [] }
        var output = ["--- \(oldName)", "+++ \(newName)"]
        var index = 0
        while index < script.count {
            guard let firstChange = script[index...].firstIndex(where: { $0.tag != " " }) else { break }
            let start = max(index, firstChange - context)
            var end = firstChange
            // Extend while the next change is within 2 × context lines.
            while true {
                var lastChange = end
                var probe = end + 1
                while probe < script.count && script[probe].tag == " " && probe - lastChange <= 2 * context { probe += 1 }
                if probe < script.count && script[probe].tag != " " && probe - lastChange <= 2 * context {
                    end = probe
                    lastChange = probe
                    continue
                }
                break
            }
            let stop = min(script.count, end + context + 1)
            let hunk = script[start..<stop]
            let oldCount = hunk.filter { $0.tag != "+" }.count
            let newCount = hunk.filter { $0.tag != "-" }.count
            let oldStart = oldCount == 0 ? hunk.first!.a : hunk.first!.a + 1
            let newStart = newCount == 0 ? hunk.first!.b : hunk.first!.b + 1
            output.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            output += hunk.map { "\($0.tag)\($0.text)" }
            index = stop
        }
        return output
    }

    private static func split(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
