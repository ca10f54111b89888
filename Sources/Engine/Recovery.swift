import Glibc
import HostAccess

/// Finishes what a killed run left: a journal whose outcome was recorded is simply removed; any other
/// is undone, so the host returns to the state before that run.
public enum Recovery {
    public enum Outcome: Equatable {
        case nothingToDo
        /// The run had completed; only its journal was left.
        case completedRun
        /// The run was undone; the count is the number of steps it had started.
        case undone(steps: Int)
    }

    public struct Failed: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String {
            "an interrupted earlier run could not be undone; the journal is kept. Check these by hand:"
                + problems.map { "\n  - \($0)" }.joined()
        }
    }

    /// What the next `recover` will do, without doing it (for `status`).
    public enum Pending: Equatable {
        /// The run completed; only its journal is left to remove.
        case removeJournal
        /// The run is undone: these changes put the host back (empty when it already is).
        case undo(command: String, generation: Int?, steps: Int, changes: [Change])
        /// A journal is there, but only root may read it (it can hold a private file's content).
        case unreadable
    }

    public static func pending(journal: Journal, generations: GenerationStore, drivers: Drivers) throws -> Pending? {
        let loaded: Journal.Contents?
        do {
            loaded = try journal.load()
        } catch let error as HostError where error.code == .errno(EACCES) {
            return .unreadable
        }
        guard let contents = loaded else { return nil }
        if let header = contents.header, try isRecorded(header, generations) { return .removeJournal }
        return .undo(command: contents.header?.command.rawValue ?? "run", generation: contents.header?.generation,
                     steps: contents.startedSteps, changes: try Undo.changes(contents.intents, drivers: drivers))
    }

    public static func recover(journal: Journal, generations: GenerationStore, drivers: Drivers) throws -> Outcome {
        guard let contents = try journal.load() else { return .nothingToDo }
        if let header = contents.header, try isRecorded(header, generations) {
            try discardDebris(contents, drivers)
            try journal.remove()
            return .completedRun
        }
        // Debris first: a temporary copy would keep a directory the run made from being empty, so
        // putting the file back would leave the directory.
        try discardDebris(contents, drivers)
        let problems = Undo.restore(contents.intents, drivers: drivers)
        guard problems.isEmpty else { throw Failed(problems: problems) }
        try journal.remove()
        return .undone(steps: contents.startedSteps)
    }

    /// What the killed run left half-made (a file's temporary copy), removed before the journal that
    /// names it, so a kill during the clean-up leaves a journal that leads here again.
    private static func discardDebris(_ contents: Journal.Contents, _ drivers: Drivers) throws {
        let changes = contents.intents.flatMap(\.changes)
        for kind in Set(changes.map(\.kind)) {
            try drivers.driver(for: kind).discardDebris(changes.filter { $0.kind == kind }.map(\.subject))
        }
    }

    /// Whether the run's outcome reached the generation store before it stopped.
    private static func isRecorded(_ header: Journal.Header, _ generations: GenerationStore) throws -> Bool {
        guard let generation = try generations.load(header.generation) else { return false }
        switch header.command {
        case .setup: return generation.isApplied
        case .rollback: return !generation.isApplied
        // The boot path records nothing: an interrupted start or stop is undone and can run again.
        case .start, .stop: return false
        }
    }
}
