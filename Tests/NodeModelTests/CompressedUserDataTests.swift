import Foundation
import NodeModel
import Testing

/// Issue #12 finding 9: user-data as cloud-init reads it. The fixtures are made at test time by the
/// real producers: gzip(1), and Python's email package building MIME the way cloud-init's
/// `make-mime` and Terraform's `cloudinit_config` do.
@Suite struct CompressedUserDataTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
    static let config = "#cloud-config\nlvs_node:\n  role: realserver\n  vips: [192.0.2.30]\n"

    /// Runs a Python program that writes the user-data to the path in argv[1]; returns its bytes.
    func made(by program: String) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "user-data-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import sys, gzip\nfrom email.mime.multipart import MIMEMultipart\nfrom email.mime.text import MIMEText\n"
                             + "from email.mime.application import MIMEApplication\nconfig = '''\(Self.config)'''\n" + program, path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 failed")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func vips(_ bytes: [UInt8]) throws -> [String] {
        let input = try #require(try UserData.spec(in: bytes, source: "ud"))
        return try input.resolve(with: catalog).0.vips.map(\.description)
    }

    @Test func gzipCompressedCloudConfigIsRead() throws {
        let directory = NSTemporaryDirectory() + "gz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.config.write(toFile: directory + "/user-data", atomically: true, encoding: .utf8)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-9", directory + "/user-data"]
        try gzip.run()
        gzip.waitUntilExit()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/user-data.gz")))
        #expect(bytes.starts(with: [0x1f, 0x8b]))
        #expect(try vips(bytes) == ["192.0.2.30"])
    }

    @Test func gzipCompressedMultipartIsRead() throws {
        // Terraform's cloudinit_config with gzip = true: the whole MIME message compressed.
        let bytes = try made(by: """
            message = MIMEMultipart()
            message.attach(MIMEText('#!/bin/sh\\necho hi\\n', 'x-shellscript'))
            message.attach(MIMEText(config, 'cloud-config'))
            open(sys.argv[1], 'wb').write(gzip.compress(message.as_bytes()))
            """)
        #expect(try vips(bytes) == ["192.0.2.30"])
    }

    @Test func aNestedMultipartWhoseBoundaryHasCapitalsIsRead() throws {
        let bytes = try made(by: """
            inner = MIMEMultipart(boundary='InnerBoundary-XYZ')
            inner.attach(MIMEText(config, 'cloud-config'))
            outer = MIMEMultipart(boundary='OuterBoundary-ABC')
            outer.attach(MIMEText('#!/bin/sh\\necho hi\\n', 'x-shellscript'))
            outer.attach(inner)
            open(sys.argv[1], 'wb').write(outer.as_bytes())
            """)
        #expect(try vips(bytes) == ["192.0.2.30"])
    }

    @Test(arguments: ["base64-cloud-config", "gzip-part", "untyped-plain"])
    func nestedPartsAreDecodedLikeTopLevelOnes(kind: String) throws {
        let part: String
        switch kind {
        case "base64-cloud-config":   // MIMEText with utf-8 is base64 in Python 3
            part = "MIMEText(config, 'cloud-config', 'utf-8')"
        case "gzip-part":             // cloud-init decompresses an application/gzip part and finds its type by how it starts
            part = "MIMEApplication(gzip.compress(config.encode()), 'gzip')"
        default:                      // text/plain starting with #cloud-config
            part = "MIMEText(config, 'plain')"
        }
        for nested in [false, true] {
            let bytes = try made(by: """
                part = \(part)
                outer = MIMEMultipart(boundary='Outer')
                if \(nested ? "True" : "False"):
                    inner = MIMEMultipart(boundary='Inner')
                    inner.attach(part)
                    outer.attach(inner)
                else:
                    outer.attach(part)
                open(sys.argv[1], 'wb').write(outer.as_bytes())
                """)
            #expect(try vips(bytes) == ["192.0.2.30"], "\(kind) nested: \(nested)")
        }
    }

    @Test func aGzipBombIsRefusedQuickly() throws {
        let bytes = try made(by: "open(sys.argv[1], 'wb').write(gzip.compress(config.encode() + b'#' * (64 << 20), 1))")
        let start = Date()
        #expect {
            try UserData.spec(in: bytes, source: "ud")
        } throws: { "\($0)".contains("decompresses to more than 16 MiB") }
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test func damagedGzipUserDataIsAnErrorNotNothingToDo() throws {
        var bytes = try made(by: "open(sys.argv[1], 'wb').write(gzip.compress(config.encode()))")
        bytes.removeLast(6)
        #expect {
            try UserData.spec(in: bytes, source: "ud")
        } throws: { "\($0)".contains("ud: the user-data is gzip-compressed but cannot be decompressed") }
    }
}
