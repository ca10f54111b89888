import Foundation
import Glibc
import HostAccess
import Testing

/// Paths under `--root` resolve beneath it without following a link on the way, for every operation;
/// the last component is never followed either; temporary files are always new files.
@Suite final class BeneathRootTests {
    let folder: String
    var rootPath: String { folder + "/root" }
    var outside: String { folder + "/outside" }
    var root: HostRoot { HostRoot(rootPath) }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/lvs-node-beneath.XXXXXX").utf8CString)
        folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "outside\n".write(toFile: outside + "/keep", atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func outsideListing() throws -> [String] { try FileManager.default.subpathsOfDirectory(atPath: outside).sorted() }

    func content(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func aSymlinkedDirectoryOnTheWayIsRefusedByEveryOperationNamingIt() throws {
        try FileManager.default.createDirectory(atPath: rootPath + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/etc/netplan", withDestinationPath: outside)
        let path = "/etc/netplan/keep"
        let operations: [(String, () throws -> Void)] = [
            ("inspect", { _ = try self.root.inspect(path) }),
            ("read", { _ = try self.root.read(path) }),
            ("write", { try self.root.writeAtomically(path, Array("new\n".utf8)) }),
            ("link", { try self.root.placeSymlink(path, target: "/x") }),
            ("append", { try self.root.append(path, Array("more\n".utf8), sync: false) }),
            ("remove", { try self.root.remove(path) }),
            ("mkdir", { try self.root.makeDirectories("/etc/netplan/sub") }),
            ("write below", { try self.root.writeAtomically("/etc/netplan/a/b/c", Array("new\n".utf8)) }),
        ]
        for (name, operation) in operations {
            do {
                try operation()
                Issue.record("\(name) went through the link")
            } catch let error as HostError {
                #expect(error.code == .errno(ELOOP), "\(name): \(error)")
                #expect(error.description.contains("\(rootPath)/etc/netplan"), "\(name): \(error)")
            }
        }
        #expect(try outsideListing() == ["keep"])
        #expect(try content(outside + "/keep") == "outside\n")
    }

    @Test func aLinkToADirectoryHigherUpIsRefusedToo() throws {
        // Not the parent itself but its parent: `etc -> outside`.
        try FileManager.default.createDirectory(atPath: outside + "/netplan", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/etc", withDestinationPath: outside)
        #expect(throws: HostError.self) { try self.root.writeAtomically("/etc/netplan/60-lvs-node.yaml", Array("x".utf8)) }
        #expect(try outsideListing() == ["keep", "netplan"])
    }

    @Test func aRelativeLinkClimbingOutOfTheRootIsRefused() throws {
        try FileManager.default.createDirectory(atPath: rootPath + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/etc/netplan", withDestinationPath: "../../outside")
        #expect(FileManager.default.fileExists(atPath: rootPath + "/etc/netplan/keep"), "the link does lead out")
        #expect(throws: HostError.self) { try self.root.writeAtomically("/etc/netplan/60-lvs-node.yaml", Array("x".utf8)) }
        #expect(throws: HostError.self) { _ = try self.root.inspect("/etc/netplan/keep") }
        #expect(try outsideListing() == ["keep"])
    }

    @Test func aRelativeLinkThatStaysBeneathTheRootIsFollowedAsOnCentOS() throws {
        // CentOS 6: /etc/init.d -> rc.d/init.d, /etc/rc3.d -> rc.d/rc3.d.
        for directory in ["etc/rc.d/init.d", "etc/rc.d/rc3.d"] {
            try FileManager.default.createDirectory(atPath: "\(rootPath)/\(directory)", withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/etc/init.d", withDestinationPath: "rc.d/init.d")
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/etc/rc3.d", withDestinationPath: "./rc.d/../rc.d/rc3.d")
        try root.writeAtomically("/etc/init.d/lvs-node-realserver", Array("#!/bin/sh\n".utf8), mode: 0o755)
        try root.placeSymlink("/etc/rc3.d/S20lvs-node-realserver", target: "../init.d/lvs-node-realserver")
        #expect(try content(rootPath + "/etc/rc.d/init.d/lvs-node-realserver") == "#!/bin/sh\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: rootPath + "/etc/rc.d/rc3.d/S20lvs-node-realserver")
                == "../init.d/lvs-node-realserver")
        #expect(try root.inspect("/etc/init.d/lvs-node-realserver") == .file(mode: 0o755, bytes: Array("#!/bin/sh\n".utf8)))
    }

    @Test func missingDirectoriesAreCreatedBeneathTheRoot() throws {
        try root.writeAtomically("/etc/sysconfig/network-scripts/ifcfg-lo:0", Array("ONBOOT=yes\n".utf8), mode: 0o600)
        #expect(try content(rootPath + "/etc/sysconfig/network-scripts/ifcfg-lo:0") == "ONBOOT=yes\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: rootPath + "/etc/sysconfig/network-scripts/ifcfg-lo:0")
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(try root.inspect("/etc/sysconfig") == .other("a directory"))
        #expect(try root.inspect("/etc/nothing/here") == nil)
        try root.makeDirectories("/var/lib/lvs-node", mode: 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: rootPath + "/var/lib")[.posixPermissions] as? Int == 0o755)
        #expect(try FileManager.default.attributesOfItem(atPath: rootPath + "/var/lib/lvs-node")[.posixPermissions] as? Int == 0o700)
        #expect(try root.read("/etc/nothing/here") == nil)
    }

    @Test func aSymlinkAsTheLastComponentIsSeenAsALinkAndReplacedNotFollowed() throws {
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/unit", withDestinationPath: outside + "/keep")
        #expect(try root.inspect("/unit") == .symlink(target: outside + "/keep"))
        #expect(throws: HostError.self) { _ = try self.root.read("/unit") }
        #expect(throws: HostError.self) { try self.root.writeAtomically("/unit", Array("x".utf8)) }
        try root.placeSymlink("/unit", target: "/etc/elsewhere")
        #expect(try root.inspect("/unit") == .symlink(target: "/etc/elsewhere"))
        try root.remove("/unit")
        #expect(try root.inspect("/unit") == nil)
        #expect(try content(outside + "/keep") == "outside\n")
    }

    @Test func aHardLinkAtTheTemporaryNameIsUnlinkedNeverWritten() throws {
        try FileManager.default.linkItem(atPath: outside + "/keep", toPath: rootPath + "/file.lvs-node-tmp")
        try FileManager.default.linkItem(atPath: outside + "/keep", toPath: rootPath + "/link.lvs-node-tmp")
        try root.writeAtomically("/file", Array("new\n".utf8))
        try root.placeSymlink("/link", target: "/somewhere")
        #expect(try content(outside + "/keep") == "outside\n")
        #expect(try content(rootPath + "/file") == "new\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: rootPath).sorted() == ["file", "link"])
    }

    @Test func theStateDirectorysWritesGetNewTemporaryFilesToo() throws {
        try FileManager.default.linkItem(atPath: outside + "/keep", toPath: rootPath + "/42.lvs-node-tmp")
        try DurableFiles.writeAtomically(rootPath + "/42", Array("generation\n".utf8), mode: 0o600)
        #expect(try content(outside + "/keep") == "outside\n")
        #expect(try content(rootPath + "/42") == "generation\n")
    }

    @Test func aFIFOIsNamedAndNeverWaitedOn() throws {
        #expect(mkfifo(rootPath + "/fifo", 0o644) == 0)
        #expect(try root.inspect("/fifo") == .other("a FIFO"))
        #expect(throws: HostError.self) { _ = try self.root.read("/fifo") }
        #expect(throws: HostError.self) { try self.root.append("/fifo", Array("x".utf8), sync: false) }
    }

    @Test func removeTemporaryTakesOnlyTheLeftoverAndNeverLooksThroughALink() throws {
        try FileManager.default.createDirectory(atPath: rootPath + "/etc/sysctl.d", withIntermediateDirectories: true)
        try "kept\n".write(toFile: rootPath + "/etc/sysctl.d/90-lvs-node.conf", atomically: false, encoding: .utf8)
        try "half\n".write(toFile: rootPath + "/etc/sysctl.d/90-lvs-node.conf.lvs-node-tmp", atomically: false, encoding: .utf8)
        try "outside\n".write(toFile: outside + "/x.lvs-node-tmp", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: rootPath + "/etc/netplan", withDestinationPath: outside)

        try root.removeTemporary(of: "/etc/sysctl.d/90-lvs-node.conf")
        try root.removeTemporary(of: "/etc/netplan/x")
        try root.removeTemporary(of: "/etc/missing/y")

        #expect(try FileManager.default.contentsOfDirectory(atPath: rootPath + "/etc/sysctl.d") == ["90-lvs-node.conf"])
        #expect(try outsideListing() == ["keep", "x.lvs-node-tmp"])
    }

    @Test func theRealRootAndARelativeRootBothWork() throws {
        try HostRoot("/").writeAtomically(folder + "/through-slash", Array("a\n".utf8))
        #expect(try content(folder + "/through-slash") == "a\n")
        #expect(try HostRoot("/").read(folder + "/through-slash") == Array("a\n".utf8))

        // Beneath "/" everything is: an absolute link on the way is followed there.
        try FileManager.default.createDirectory(atPath: folder + "/b", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/a", withDestinationPath: folder + "/b")
        try HostRoot("/").writeAtomically(folder + "/a/through-a-link", Array("c\n".utf8))
        #expect(try content(folder + "/b/through-a-link") == "c\n")

        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + rootPath.dropFirst()
        try HostRoot(relative).writeAtomically("/etc/relative", Array("b\n".utf8))
        #expect(try content(rootPath + "/etc/relative") == "b\n")
    }

    @Test func dotDotIsRefused() throws {
        #expect(throws: HostError.self) { try self.root.writeAtomically("/etc/../../outside/keep", Array("x".utf8)) }
        #expect(try content(outside + "/keep") == "outside\n")
    }
}

/// Reads of files a distribution reaches through links (os-release, cloud-init's instance) follow them
/// as a process chrooted to the root would: never out of it.
@Suite final class LinksInsideRootTests {
    let folder: String
    var rootPath: String { folder + "/root" }
    var root: HostRoot { HostRoot(rootPath) }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/lvs-node-inside.XXXXXX").utf8CString)
        folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        for directory in ["root/usr/lib", "root/etc", "root/var/lib/cloud/instances/i-1", "outside"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(directory)", withIntermediateDirectories: true)
        }
        try "ID=inside\n".write(toFile: rootPath + "/usr/lib/os-release", atomically: false, encoding: .utf8)
        try "ID=outside\n".write(toFile: folder + "/outside/os-release", atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func link(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: rootPath + path, withDestinationPath: target)
    }

    @Test func aRelativeLinkAsOnDebianIsFollowed() throws {
        try link("/etc/os-release", to: "../usr/lib/os-release")
        #expect(try root.readFollowingLinksInside("/etc/os-release") == Array("ID=inside\n".utf8))
    }

    @Test func anAbsoluteLinkOnTheWayStartsAgainAtTheRoot() throws {
        try "lvs_node: {}\n".write(toFile: rootPath + "/var/lib/cloud/instances/i-1/user-data.txt", atomically: false, encoding: .utf8)
        try link("/var/lib/cloud/instance", to: "/var/lib/cloud/instances/i-1")
        #expect(try root.readFollowingLinksInside("/var/lib/cloud/instance/user-data.txt") == Array("lvs_node: {}\n".utf8))
    }

    @Test func linksPointingOutOfTheRootStayInsideIt() throws {
        try link("/etc/os-release", to: folder + "/outside/os-release")
        #expect(try root.readFollowingLinksInside("/etc/os-release") == nil, "read as <root>\(folder)/outside/os-release, which is not there")
        try FileManager.default.removeItem(atPath: rootPath + "/etc/os-release")
        try link("/etc/os-release", to: "../../../../../../../../../outside/os-release")
        #expect(try root.readFollowingLinksInside("/etc/os-release") == nil, "'..' stops at the root")
        try FileManager.default.removeItem(atPath: rootPath + "/etc/os-release")
        try link("/etc/os-release", to: "../../../../../../../../../usr/lib/os-release")
        #expect(try root.readFollowingLinksInside("/etc/os-release") == Array("ID=inside\n".utf8))
    }

    @Test func aLinkLoopIsAnErrorNotAHang() throws {
        try link("/etc/a", to: "b")
        try link("/etc/b", to: "a")
        #expect(throws: HostError.self) { _ = try self.root.readFollowingLinksInside("/etc/a") }
    }
}
