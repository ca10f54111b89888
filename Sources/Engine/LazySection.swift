import Synchronization

/// One part of a generation (its spec, its changes, its baseline), decoded from the file's bytes the
/// first time a run asks for it: a no-op needs only the steps, a rollback only the changes, and a
/// director's table makes each part thousands of Strings. The file was checked whole before (checksum,
/// every record's shape, every private reference resolved), so the decoding itself cannot fail.
/// Copies of a generation share the box; a new value replaces the box, never its contents.
final class LazySection<Value: Sendable>: Sendable {
    private let decode: @Sendable () -> Value
    private let decoded: Mutex<Value?>

    init(decode: @escaping @Sendable () -> Value) {
        self.decode = decode
        decoded = Mutex(nil)
    }

    init(_ value: Value) {
        decode = { value }
        decoded = Mutex(value)
    }

    /// Whether a run has asked for it yet (tests prove what a run leaves undecoded).
    var isDecoded: Bool { decoded.withLock { $0 != nil } }

    var value: Value {
        decoded.withLock { kept in
            if let kept { return kept }
            let value = decode()
            kept = value
            return value
        }
    }
}
