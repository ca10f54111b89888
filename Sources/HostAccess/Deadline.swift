import Glibc

/// A point on the monotonic clock some seconds from now (a drain, a lock wait, a child's time limit):
/// wall-clock changes cannot shorten or stretch it.
public struct Deadline: Sendable {
    private let milliseconds: Int64

    public init(seconds: Int) { milliseconds = Self.now() + Int64(max(seconds, 0)) * 1000 }

    public var hasPassed: Bool { remainingMilliseconds <= 0 }
    public var remainingMilliseconds: Int64 { milliseconds - Self.now() }

    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
