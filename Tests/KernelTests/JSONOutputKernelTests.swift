import Foundation
import Testing
import TestSupport

/// `--json`: every command, in a fresh network namespace with --root and --state-dir in a temporary
/// folder, prints exactly one JSON document on standard output, and it validates against the schema in
/// the repository (checked by python3's jsonschema, not by lvs-node's own code) — errors included.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil && JSONSchemaCheck.unavailableReason == nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? JSONSchemaCheck.unavailableReason ?? "")))
final class JSONOutputKernelTests {
    let namespace: NetworkNamespace
    let directory = TemporaryDirectory()

    init() throws { namespace = try NetworkNamespace() }

    deinit {
        namespace.remove()
        directory.remove()
    }

    func lvsNode(_ arguments: [String]) throws -> ProcessResult {
        try namespace.run(lvsNodeBinary, arguments + ["--root", directory.file("root"), "--state-dir", directory.file("state")])
    }

    /// Runs a command with --json; its stdout must be one valid document whose status is the exit status.
    @discardableResult
    func document(_ arguments: [String], status: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let result = try lvsNode(arguments + ["--json"])
        #expect(result.status == status, "\(arguments): \(result)", sourceLocation: sourceLocation)
        let problems = try JSONSchemaCheck.validate(result.stdout)
        #expect(problems.isEmpty, "\(arguments): \(problems)\n\(result.stdout)", sourceLocation: sourceLocation)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? Int == Int(status), sourceLocation: sourceLocation)
        #expect(result.stdout.split(separator: "\n").count == 1, "one document, nothing else: \(result.stdout)", sourceLocation: sourceLocation)
        return object
    }

    func changes(_ object: [String: Any], _ key: String = "changes") -> [[String: Any]] { object[key] as? [[String: Any]] ?? [] }

    @Test func everyCommandPrintsOneDocumentTheSchemaAccepts() throws {
        let spec = ["--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "systemd"]
        try FileManager.default.createDirectory(atPath: directory.file("root/etc/systemd/system"), withIntermediateDirectories: true)
        let plan = try document(["plan"] + spec, status: 2)
        let planned = changes(plan)
        #expect(planned.contains { $0["action"] as? String == "add" && $0["kind"] as? String == "address"
                    && $0["subject"] as? String != nil && $0["before"] is NSNull })
        #expect(planned.contains { $0["kind"] as? String == "sysctl" && $0["action"] as? String == "change" && $0["after"] as? String == "1" })
        // A file shows its first line; its content is only in the diff.
        let unit = try #require(planned.first { ($0["subject"] as? String ?? "").hasSuffix("lvs-node-realserver.service") && $0["kind"] as? String == "file" })
        #expect(unit["after"] as? String == "file 0644", "\(unit)")
        #expect((unit["diff"] as? [String] ?? []).contains { $0.hasPrefix("+ExecStart=") }, "\(unit)")
        #expect(try document(["setup", "--dry-run"] + spec, status: 2)["dry_run"] as? Bool == true)

        let setup = try document(["setup"] + spec, status: 0)
        #expect(setup["generation"] as? Int == 1 && setup["changed"] as? Bool == true)
        #expect(changes(setup).count == planned.count)
        let again = try document(["setup"] + spec, status: 0)
        #expect(again["generation"] is NSNull && again["changed"] as? Bool == false)

        #expect(try document(["status"], status: 0)["in_place"] as? Bool == true)
        try namespace.ip(["addr", "del", "192.0.2.10/32", "dev", "lo"])
        let drifted = try document(["status"], status: 2)
        #expect(changes(drifted, "drift").contains { $0["action"] as? String == "add" && ($0["subject"] as? String ?? "").contains("192.0.2.10") }, "\(drifted)")
        try document(["setup"] + spec, status: 0)

        let shown = try document(["show"], status: 0)
        #expect(shown["generation"] as? Int == 2 && (shown["spec"] as? String ?? "").contains("192.0.2.10") && shown["secrets_masked"] as? Bool == false)
        #expect(try document(["show", "--generation", "1"], status: 0)["generation"] as? Int == 1)
        let history = try document(["history"], status: 0)
        #expect(history["in_force"] as? Int == 2)
        #expect((history["generations"] as? [[String: Any]])?.count == 2)
        #expect(try document(["stop"], status: 0)["generation"] as? Int == 2)
        #expect(try !namespace.addresses(device: "lo").contains { $0.local == "192.0.2.10" })
        #expect(try document(["start"], status: 0)["changed"] as? Bool == true)
        #expect(try document(["rollback", "--dry-run"], status: 2)["dry_run"] as? Bool == true)
        let rollback = try document(["rollback"], status: 0)
        #expect(rollback["generation"] as? Int == 2)
        #expect(try document(["rollback", "--all"], status: 0)["generation"] as? Int == 1)
        #expect(try document(["rollback"], status: 0)["generation"] is NSNull)
        let nothing = try document(["show"], status: 0)
        #expect(nothing["generation"] is NSNull && nothing["spec"] is NSNull)

        let userData = directory.file("user-data")
        try "#cloud-config\nlvs_node:\n  role: realserver\n  vips: [192.0.2.20]\n  persist: none\n  init: none\n"
            .write(toFile: userData, atomically: true, encoding: .utf8)
        let cloudInit = try document(["cloud-init", "--user-data", userData], status: 0)
        #expect(cloudInit["spec_found"] as? Bool == true && cloudInit["generation"] as? Int == 3)
        try "#cloud-config\nruncmd: [true]\n".write(toFile: userData, atomically: true, encoding: .utf8)
        #expect(try document(["cloud-init", "--user-data", userData], status: 0)["spec_found"] as? Bool == false)

        let good = directory.file("good.yaml")
        try "role: realserver\nvips: [192.0.2.10]\n".write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try document(["check", good], status: 0)["files"] as? [String] == [good])

        let version = try runProcess(lvsNodeBinary, ["version", "--json"])
        #expect(try JSONSchemaCheck.validate(version.stdout).isEmpty, "\(version)")
    }

    /// A killed run shows in status as what the next run undoes first, and in that run as its recovery.
    @Test func aKilledRunIsDescribedByStatusAndRecoveredByTheNextRun() throws {
        let spec = ["--role", "realserver", "--vip", "192.0.2.10", "--persist", "none", "--init", "none"]
        try document(["setup"] + spec, status: 0)
        // What a run killed just before recording its generation leaves: its changes live and journaled.
        let generations = directory.file("state/generations")
        let record = try String(contentsOfFile: "\(generations)/000001", encoding: .utf8)
        let changes = record.split(separator: "\n").filter { $0.hasPrefix("change\t") }
        try ("begin\tsetup\t1\nintent\tall\t\(changes.count)\n" + changes.joined(separator: "\n") + "\n")
            .write(toFile: directory.file("state/journal"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(generations)/000001")

        let status = try document(["status"], status: 2)
        let interrupted = try #require(status["interrupted_run"] as? [String: Any], "\(status)")
        #expect(interrupted["action"] as? String == "undo" && interrupted["generation"] as? Int == 1, "\(interrupted)")
        #expect(self.changes(interrupted, "undo").contains { $0["action"] as? String == "remove" && $0["kind"] as? String == "address" },
                "\(interrupted)")
        let rollback = try document(["rollback"], status: 0)
        let recovery = try #require(rollback["recovery"] as? [String: Any], "\(rollback)")
        #expect(recovery["action"] as? String == "undone" && (recovery["undone_steps"] as? Int ?? 0) > 0, "\(recovery)")
        #expect(try !namespace.addresses(device: "lo").contains { $0.local == "192.0.2.10" })
    }

    /// Errors are documents too, with the file and line of a bad spec split out.
    @Test func errorsAreDocumentsWithTheFileAndLine() throws {
        let bad = directory.file("bad.yaml")
        try "role: realserver\nvips:\n  - 192.0.2.10\n  - 127.0.0.1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        for command in [["plan"], ["setup"]] {
            let error = try #require(try document(command + ["--config", bad], status: 65)["error"] as? [String: Any])
            #expect(error["status"] as? Int == 65)
            #expect(error["line"] as? Int == 4, "\(error)")
            #expect((error["file"] as? String ?? "").hasSuffix("bad.yaml"), "\(error)")
            #expect((error["message"] as? String ?? "").contains("loopback"), "\(error)")
        }
        #expect(try document(["check", bad], status: 65)["error"] != nil)
        #expect(try document(["setup", "--role", "realserver", "--vip", "300.1.2.3"], status: 65)["error"] != nil)
        let usage = try #require(try document(["setup", "--role", "realserver", "--vip", "192.0.2.10", "--no-such-flag"], status: 64)["error"] as? [String: Any])
        #expect((usage["message"] as? String ?? "").contains("no-such-flag"), "\(usage)")
        #expect(try document(["rollback", "--to", "9"], status: 65)["error"] != nil)
        #expect(try document(["rollback", "--to", "1", "--all"], status: 64)["error"] != nil)
        #expect(directory.tree().keys.allSatisfy { $0.hasSuffix(".yaml") || $0.hasPrefix("state/") }, "\(directory.tree().keys)")
    }

    /// A 0600 file's content (keepalived.conf with its VRRP password) never appears raw: the state
    /// shows its first line and the diff masks the password.
    @Test func aPrivateFileShowsOnlyItsModeAndAMaskedDiff() throws {
        try namespace.ip(["link", "add", "eth0", "type", "veth", "peer", "name", "eth1"])
        try namespace.ip(["link", "set", "eth0", "up"])
        let spec = directory.file("director.yaml")
        try """
            role: director
            mode: dr
            services:
              - {vip: 192.0.2.10, port: 80, real-servers: [{address: 192.0.2.11}]}
            ha: {state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51, password: s3cretpw}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        if !hostHasIPVS { try installDirectorRoleWithoutIPVSSysctls(root: directory.file("root")) }
        let result = try lvsNode(["plan", "--config", spec, "--json"])
        try #require(result.status == 2, "\(result)")
        #expect(try JSONSchemaCheck.validate(result.stdout).isEmpty, "\(result)")
        #expect(!result.stdout.contains("s3cretpw"), "\(result.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let conf = try #require(changes(object).first { ($0["subject"] as? String ?? "").hasSuffix("keepalived.conf") }, "\(object)")
        #expect(conf["after"] as? String == "file 0600", "\(conf)")
        #expect((conf["diff"] as? [String] ?? []).contains { $0.hasSuffix("auth_pass ********") }, "\(conf)")
    }
}

/// Validates a document against schema/lvs-node.schema.json with python3's jsonschema (Debian
/// python3-jsonschema): a validator that shares nothing with lvs-node.
enum JSONSchemaCheck {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../schema/lvs-node.schema.json").standardized.path

    static let unavailableReason: String? = {
        guard let python = which("python3") else { return "needs python3 with jsonschema (python3-jsonschema)" }
        let probe = try? runProcess(python, ["-c", "import jsonschema"])
        return probe?.status == 0 ? nil : "needs python3's jsonschema (Debian python3-jsonschema)"
    }()

    static let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        document = json.loads(sys.stdin.read())
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: e.path)
        for error in errors: print(list(error.absolute_path), error.message[:300])
        sys.exit(1 if errors else 0)
        """

    /// The schema's complaints; empty when the document is valid.
    static func validate(_ document: String) throws -> String {
        let result = try runProcess(which("python3")!, ["-c", script, schema], input: document)
        return result.status == 0 ? "" : result.stdout + result.stderr
    }
}
