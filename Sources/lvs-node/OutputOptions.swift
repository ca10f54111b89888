import ArgumentParser
import Engine
import Glibc
import LVSNode
import NodeModel

/// How a command prints: text (all of it, or with --quiet only the summary line) or, with --json, one
/// JSON document on standard output and nothing else there.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document on standard output and nothing else there (described by schema/lvs-node.schema.json).")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only the summary line (errors still go to standard error).")
    var quiet = false

    /// A line of the listing (a plan line, a note); not with --quiet or --json.
    func detail(_ line: String) {
        if !json && !quiet { print(line) }
    }

    /// The plan lines of these changes (each change's line, its details indented), as `detail` would
    /// print them, in one string and one print: a print per line was most
    /// of what printing a thousand changes cost.
    func details(_ changes: [ReportedChange]) {
        guard !json && !quiet, !changes.isEmpty else { return }
        var text = ""
        text.reserveCapacity(changes.reduce(0) { $0 + $1.line.utf8.count + 1 })
        for change in changes {
            text += change.line
            text += "\n"
            for line in change.details {
                text += "    "
                text += line
                text += "\n"
            }
        }
        print(text, terminator: "")
    }

    /// The one line that says what happened; not with --json.
    func summary(_ line: String) {
        if !json { print(line) }
    }

    /// With --json, the command's document: `schema_version`, `command`, `status`, then `members`.
    /// The members are built only with --json: for a thousand changes they were a fifth of the heap at
    /// the peak of a text-mode run.
    func document(_ command: String, status: Int32, _ members: @autoclosure () -> [(String, JSONValue)]) {
        guard json else { return }
        JSONOutput.emit(.object([("schema_version", .int(JSONOutput.schemaVersion)), ("command", .string(command)),
                                 ("status", .int(Int(status)))] + members()))
    }
}

/// The JSON forms of what the commands report (schema/lvs-node.schema.json, `schema_version` 2).
enum JSONOutput {
    static let schemaVersion = 3

    /// The whole document and a newline in one write, so a reader never sees half of it.
    static func emit(_ document: JSONValue) {
        var bytes = document.utf8
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    static func change(_ change: ReportedChange) -> JSONValue {
        .object([("action", .string(change.action.rawValue)), ("kind", .string(change.kind)), ("subject", .string(change.subject)),
                 ("before", .optional(change.before)), ("after", .optional(change.after)), ("description", .string(change.line)),
                 ("diff", .strings(change.details))])
    }

    static func changes(_ changes: [ReportedChange]) -> JSONValue { .array(changes.map(change)) }

    /// A generation as `status` and `history` show it (the summary's VIP list cut short).
    static func generation(_ generation: Generation) -> JSONValue {
        .object([("number", .int(generation.number)), ("created", .string(generation.created)),
                 ("state", .string(generation.isApplied ? "applied" : "rolled-back")),
                 ("rolled_back", .optional(generation.rolledBack)), ("rolled_back_because", .optional(generation.rolledBackBecause)),
                 ("change_count", .int(generation.changeCount)),
                 ("summary", .string(Output.shortSummary(generation.summary)))])
    }

    /// What the next setup or rollback does first about a killed run: null when there was none.
    static func interrupted(_ report: StatusReport) -> JSONValue {
        switch report.interruptedRun {
        case nil: return .null
        case .unreadable?: return .object([("action", .string("unreadable")), ("undo", .array([]))])
        case .removeJournal?: return .object([("action", .string("remove-journal")), ("undo", .array([]))])
        case .undo(let command, let generation, let steps, _)?:
            return .object([("action", .string("undo")), ("command", .string(command)), ("generation", .optional(generation)),
                            ("steps", .int(steps)), ("undo", changes(report.interruptedUndoChanges))])
        }
    }

    /// What happened to a killed run's journal before this run: null when there was none.
    static func recovery(_ outcome: Recovery.Outcome) -> JSONValue {
        switch outcome {
        case .nothingToDo: return .null
        case .completedRun: return .object([("action", .string("removed-journal")), ("undone_steps", .int(0))])
        case .undone(let steps): return .object([("action", .string("undone")), ("undone_steps", .int(steps))])
        }
    }

    /// An error: its exit status, the sentence, and where the input was wrong when lvs-node knows.
    static func error(_ command: String, status: Int32, error: Error?, message: String) -> JSONValue {
        var problems: [SpecError] = []
        if let error = error as? SpecError { problems = [error] }
        if let errors = error as? SpecErrors { problems = errors.errors }
        let (file, line) = problems.first.map { location($0.location) } ?? (nil, nil)
        let sentence = message.hasPrefix("error: ") ? String(message.dropFirst(7)) : message
        var members: [(String, JSONValue)] = [("status", .int(Int(status))), ("message", .string(sentence)),
                                              ("file", .optional(file)), ("line", .optional(line))]
        if !problems.isEmpty {
            members.append(("problems", .array(problems.map { problem in
                let (file, line) = location(problem.location)
                return .object([("location", .string(problem.location)), ("file", .optional(file)), ("line", .optional(line)),
                                ("message", .string(problem.message))])
            })))
        }
        return .object([("schema_version", .int(schemaVersion)), ("command", .string(command)), ("status", .int(Int(status))),
                        ("error", .object(members))])
    }

    /// A `SpecError` location as file and line: `node.yaml line 7 (vips[1])` is node.yaml, 7;
    /// `/etc/x.conf` is that file; a flag (`--vip`) or a role is neither.
    static func location(_ text: String) -> (String?, Int?) {
        if let range = text.firstRange(of: " line ") {
            let digits = text[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
            if let line = Int(digits) { return (String(text[..<range.lowerBound]), line) }
        }
        if text.hasPrefix("-") || text.contains(" ") { return (nil, nil) }
        return (text, nil)
    }
}
