import Glibc
import Testing
@testable import HostAccess

/// `DurableFiles.read` reads a file into room made for its size at once; every size reads back exactly,
/// a file that grows after it was opened too, and the limit still holds.
@Suite struct DurableReadTests {
    func file(_ bytes: [UInt8]) -> String {
        var template = Array("/tmp/lvs-node-read-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return String(cString: template)
    }

    @Test func everySizeReadsBackExactly() throws {
        for size in [0, 1, 4095, 65536, 65537, 146_193, 300_000] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let path = file(bytes)
            defer { unlink(path) }
            #expect(try DurableFiles.read(path) == bytes, "size \(size)")
        }
    }

    @Test func aFileLargerThanItsSizeWhenOpenedIsReadToItsEnd() throws {
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        let path = file(bytes)
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        // Told it held 10 bytes: the rest is read all the same.
        #expect(try DurableFiles.readAll(fd, path: path, expected: 10) == bytes)
    }

    @Test func theLimitHolds() throws {
        let path = file(Array(repeating: 7, count: 1000))
        defer { unlink(path) }
        #expect(try DurableFiles.read(path, limit: 1000)?.count == 1000)
        #expect(throws: HostError.self) { try DurableFiles.read(path, limit: 999) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        #expect(throws: HostError.self) { try DurableFiles.readAll(fd, path: path, limit: 999, expected: 1000) }
    }
}
