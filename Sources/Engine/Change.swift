/// One difference between the host and the spec, as data: the journal stores it, and its reverse undoes it.
/// A state is the kind's own text (a sysctl value, an address label); nil means absent.
public struct Change: Equatable, Sendable {
    public var kind: String
    public var subject: String
    public var before: String?
    public var after: String?

    public init(kind: String, subject: String, before: String?, after: String?) {
        self.kind = kind
        self.subject = subject
        self.before = before
        self.after = after
    }

    public var reversed: Change { Change(kind: kind, subject: subject, before: after, after: before) }

    /// `+` add, `-` remove, `~` change.
    public var symbol: Character {
        switch (before, after) {
        case (nil, _): return "+"
        case (_, nil): return "-"
        default: return "~"
        }
    }
}

/// The state one step wants for one subject; nil means the subject must be absent.
public struct Desired: Equatable, Sendable {
    public var subject: String
    public var state: String?

    public init(subject: String, state: String?) {
        self.subject = subject
        self.state = state
    }
}

/// A step of a role resolved against a spec: which kind of thing, and the state it wants for each subject.
public struct DesiredStep: Equatable, Sendable {
    public var name: String
    public var kind: String
    public var desired: [Desired]

    public init(name: String, kind: String, desired: [Desired]) {
        self.name = name
        self.kind = kind
        self.desired = desired
    }
}
