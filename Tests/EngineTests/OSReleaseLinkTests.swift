import Foundation
import Testing
import TestSupport

/// `/etc/os-release` is a link to `../usr/lib/os-release` on Debian, Ubuntu and the RHEL family, so
/// `--persist auto` must read it through that link, inside the root, or it never sees the distribution.
@Suite final class OSReleaseLinkTests {
    @Test func persistAutoReadsOSReleaseThroughItsLinkInsideTheRoot() throws {
        let node = FakeNode()
        for directory in ["etc", "usr/lib"] {
            try FileManager.default.createDirectory(atPath: node.directory.file(directory), withIntermediateDirectories: true)
        }
        try "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n".write(toFile: node.directory.file("usr/lib/os-release"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: node.directory.file("etc/os-release"), withDestinationPath: "../usr/lib/os-release")

        let (spec, _) = try node.agent.resolve(FakeNode.realserver("192.0.2.10"))

        #expect(spec.persist.rawValue == "ifcfg")
    }
}
