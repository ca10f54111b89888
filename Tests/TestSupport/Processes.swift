import Foundation

/// What a finished process left.
public struct ProcessResult: CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// Runs a program with arguments (never through a shell) and waits for it.
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       input: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    // Output goes to files, not pipes, so a chatty child never blocks on a full pipe.
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    _ = FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
    _ = FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("out")))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("err")))
    defer { try? out.close(); try? err.close() }
    process.standardOutput = out
    process.standardError = err
    if let input {
        FileManager.default.createFile(atPath: directory.file("in"), contents: Data(input.utf8))
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory.file("in")))
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    process.waitUntilExit()
    let outData = FileManager.default.contents(atPath: directory.file("out")) ?? Data()
    let errData = FileManager.default.contents(atPath: directory.file("err")) ?? Data()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// The lvs-node binary under test: $LVS_NODE_BIN, else the one built beside the test runner.
public let lvsNodeBinary: String = {
    if let path = ProcessInfo.processInfo.environment["LVS_NODE_BIN"] { return path }
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [runner, runner.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("lvs-node").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("lvs-node").path
}()

public func which(_ name: String) -> String? {
    for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// A network interface of this machine other than lo (eth0 if there is one): keepalived checks that
/// a VRRP instance's interface exists where it runs, and the tests that run it run here.
public let hostInterface: String? = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
    return names.contains("eth0") ? "eth0" : names.sorted().first { $0 != "lo" && !$0.contains(":") }
}()
