import Foundation

/// A fresh directory under the system's temporary folder, removed by `remove()`.
public final class TemporaryDirectory {
    public let path: String

    /// With an empty `root/` in it: lvs-node refuses a --root that does not exist.
    public init() {
        var template = Array((NSTemporaryDirectory() + "/lvs-node-test.XXXXXX").utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        mkdir(path + "/root", 0o755)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ relative: String) -> String { "\(path)/\(relative)" }

    /// Every file below the directory, relative path → contents.
    public func tree() -> [String: Data] {
        var result: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return result }
        for case let name as String in walker {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(path)/\(name)", isDirectory: &isDirectory)
            if !isDirectory.boolValue { result[name] = FileManager.default.contents(atPath: "\(path)/\(name)") }
        }
        return result
    }
}
