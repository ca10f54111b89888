import Engine
import Foundation
import HostAccess
import LVSNode
import Steps
import Testing
import TestSupport

/// What `--json` shows of a change: states as text, never a private content, and JSON that a
/// standard parser (Foundation's, not lvs-node's writer) reads back exactly.
@Suite struct ReportedChangeTests {
    let directory = TemporaryDirectory()
    var drivers: Drivers { Drivers([FileDriver(root: HostRoot(directory.file("root")))]) }

    @Test func aPrivateFileShowsItsModeAndAMaskedDiffNeverItsContent() throws {
        defer { directory.remove() }
        let after = FileDriver.fileState(mode: 0o600, content: "vrrp_instance VI_1 {\n    auth_pass s3cret\n}\n")
        let change = ReportedChange(Change(kind: "file", subject: "/etc/keepalived/keepalived.conf", before: nil, after: after), drivers)
        #expect(change.action == .add)
        #expect(change.before == nil)
        #expect(change.after == "file 0600")
        #expect(!change.details.joined().contains("s3cret"))
        #expect(change.details.contains("+    auth_pass ********"), "\(change.details)")
    }

    @Test func aStateOnlyRootMayReadIsNamedNotPrinted() throws {
        defer { directory.remove() }
        let change = ReportedChange(Change(kind: "file", subject: "/etc/netplan/60-lvs-node.yaml", before: PrivateState.unreadable,
                                           after: FileDriver.fileState(mode: 0o600, content: "x\n")), drivers)
        #expect(change.action == .change)
        #expect(change.before == ReportedChange.unreadable)
        #expect(!(change.before ?? "").contains("\u{1}"))
    }

    @Test func theWriterEscapesWhatJSONRequiresAndAParserReadsItBack() throws {
        defer { directory.remove() }
        let nasty = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} del \u{7f} arrow → emoji 🧪"
        let document = JSONValue.object([("text", .string(nasty)), ("number", .int(-42)), ("none", .null),
                                         ("flags", .array([.bool(true), .bool(false)])), ("nested", .object([]))])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(document.serialized.utf8)) as? [String: Any])
        #expect(parsed["text"] as? String == nasty)
        #expect(parsed["number"] as? Int == -42)
        #expect(parsed["none"] is NSNull)
        #expect(parsed["flags"] as? [Bool] == [true, false])
        #expect(!document.serialized.contains("\n"))
    }
}
