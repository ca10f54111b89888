import Glibc

/// Every failure of a host call, carrying what was attempted on what: the errno or libnl code alone
/// does not say which address or sysctl failed.
public struct HostError: Error, CustomStringConvertible, Equatable {
    public enum Code: Equatable, Sendable {
        case errno(Int32)
        case netlink(Int32)
    }

    public let operation: String
    public let subject: String
    public let code: Code
    public let detail: String

    public init(operation: String, subject: String, errno: Int32) {
        self.operation = operation
        self.subject = subject
        self.code = .errno(errno)
        self.detail = String(cString: strerror(errno))
    }

    init(operation: String, subject: String, netlinkCode: Int32, detail: String) {
        self.operation = operation
        self.subject = subject
        self.code = .netlink(netlinkCode)
        self.detail = detail
    }

    public var description: String { "\(operation) \(subject): \(detail)" }

    /// True when the error means "no such file or directory" (a sysctl the kernel lacks).
    public var isMissing: Bool { code == .errno(ENOENT) }
}

/// The first request of a batch the kernel refused: its position and the error. The kernel goes on
/// with the rest of the batch, so callers that need all-or-nothing must undo (read back, then repair).
public struct BatchFailure: Error, CustomStringConvertible {
    public let index: Int
    public let error: HostError
    public init(index: Int, error: HostError) {
        self.index = index
        self.error = error
    }
    public var description: String { error.description }
}
