/// Reads and writes the live state of one kind of thing (addresses, sysctls, files).
/// Drivers hold no policy: the plan says what to change, the driver only does it.
public protocol Driver: AnyObject {
    var kind: String { get }
    /// The current state of each subject, in the same order; nil where the subject is absent.
    func read(_ subjects: [String]) throws -> [String?]
    /// Makes each `change.subject` equal to `change.after` (nil: remove it), in order, as one batch where
    /// the kind allows. Throws `ChangeFailure` naming the first change that failed; others may have
    /// been made, which is why undo reads the host back before it repairs.
    func write(_ changes: [Change]) throws
    /// The change in words for a plan line, without the symbol: `address 192.0.2.10/32 on lo (label lo:0)`.
    func describe(_ change: Change) -> String
    /// Lines shown under the plan line (a file's unified diff).
    func details(_ change: Change) -> [String]
    /// Files survive a reboot; addresses and sysctls are live state the boot path brings back.
    var persistsAcrossReboot: Bool { get }
    /// The order in which one step's changes must be made (an IPVS service before its real servers);
    /// the plan and the journal record this order, so undo reverses it.
    func ordered(_ changes: [Change]) -> [Change]
    /// Throws for planned changes the driver could not undo exactly (a FIFO where a file goes), so
    /// the planner refuses them before anything changes, whatever `--force` says.
    func refuse(_ changes: [Change]) throws
    /// Removes what an interrupted run may have left beside these subjects (a file's temporary copy);
    /// recovery and rollback call it for the subjects of the interrupted run.
    func discardDebris(_ subjects: [String]) throws
    /// Whether `state` must be kept where only root can read it (see `PrivateState`).
    func isPrivate(_ state: String) -> Bool
    /// Whether `state` says the subject is not there (nil, or a driver's own form of absence that
    /// remembers more, such as which directories were missing too).
    func isAbsent(_ state: String?) -> Bool
}

/// Secrets in the state: a driver says which states are private (a 0600 file's content); the generation
/// keeps those in 0600 files of their own, so the rest of the state can be read by anyone.
public enum PrivateState {
    /// What a driver reads, and a generation holds, where a private value cannot be read without root.
    public static let unreadable = "\u{1}unreadable without root"
}

extension Driver {
    /// Whether `state` must be kept where only root can read it.
    public func isPrivate(_ state: String) -> Bool { false }
    public func isAbsent(_ state: String?) -> Bool { state == nil }
    public func details(_ change: Change) -> [String] { [] }
    public func ordered(_ changes: [Change]) -> [Change] { changes }
    public var persistsAcrossReboot: Bool { false }
    public func refuse(_ changes: [Change]) throws {}
    public func discardDebris(_ subjects: [String]) throws {}
}

/// The change a driver could not make, and why (with the operation and the object).
public struct ChangeFailure: Error, CustomStringConvertible {
    public let change: Change
    public let underlying: Error

    public init(change: Change, underlying: Error) {
        self.change = change
        self.underlying = underlying
    }

    public var description: String { "\(underlying)" }
}

/// Runs `body` for each change in order, naming the change that failed: for drivers that make
/// one change at a time.
public func forEachChange(_ changes: [Change], _ body: (Change) throws -> Void) throws {
    for change in changes {
        do {
            try body(change)
        } catch {
            throw ChangeFailure(change: change, underlying: error)
        }
    }
}

/// The drivers of a run, by kind.
public struct Drivers {
    private var byKind: [String: Driver] = [:]

    public init(_ drivers: [Driver]) {
        for driver in drivers { byKind[driver.kind] = driver }
    }

    /// Whether a state of `kind` says its subject is not there.
    public func isAbsent(_ kind: String, _ state: String?) -> Bool {
        byKind[kind]?.isAbsent(state) ?? (state == nil)
    }

    /// Whether a state of `kind` must be kept where only root can read it.
    public func isPrivate(_ kind: String, _ state: String) -> Bool {
        byKind[kind]?.isPrivate(state) ?? false
    }

    public func driver(for kind: String) throws -> Driver {
        guard let driver = byKind[kind] else { throw EngineError.unknownKind(kind) }
        return driver
    }
}

public enum EngineError: Error, CustomStringConvertible {
    case unknownKind(String)
    case duplicateSubject(String, String)
    case corruptState(String)
    case damagedGeneration(path: String, number: Int, detail: String)

    public var description: String {
        switch self {
        case .unknownKind(let kind): return "no driver for the step kind '\(kind)'"
        case .duplicateSubject(let kind, let subject): return "two steps both manage \(kind) \(subject); each thing may have only one owner"
        case .corruptState(let detail): return "the state directory is damaged: \(detail)"
        case .damagedGeneration(let path, let number, let detail):
            return """
                generation \(number) (\(path)) is damaged: \(detail). lvs-node will not guess what it applied. \
                Compare the host with `lvs-node history` by hand, then move that file out of the generations directory \
                (the generation before it is then in force) and run setup to make the host match a spec
                """
        }
    }
}
