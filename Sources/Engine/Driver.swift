/// Reads and writes the live state of one kind of thing (addresses, sysctls, files).
/// Drivers hold no policy: the plan says what to change, the driver only does it.
public protocol Driver: AnyObject {
    var kind: String { get }
    /// The current state of each subject, in the same order; nil where the subject is absent.
    func read(_ subjects: [String]) throws -> [String?]
    /// Makes `change.subject` equal to `change.after` (nil: remove it). Throws with the operation and the object.
    func write(_ change: Change) throws
    /// The change in words for a plan line, without the symbol: `address 192.0.2.10/32 on lo (label lo:0)`.
    func describe(_ change: Change) -> String
}

/// The drivers of a run, by kind.
public struct Drivers {
    private var byKind: [String: Driver] = [:]

    public init(_ drivers: [Driver]) {
        for driver in drivers { byKind[driver.kind] = driver }
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

    public var description: String {
        switch self {
        case .unknownKind(let kind): return "no driver for the step kind '\(kind)'"
        case .duplicateSubject(let kind, let subject): return "two steps both manage \(kind) \(subject); each thing may have only one owner"
        case .corruptState(let detail): return "the state directory is damaged: \(detail)"
        }
    }
}
