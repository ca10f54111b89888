import Foundation
import Testing
import TestSupport

/// `plan`, `status` and `history` work for any user once root has run `setup` (monitoring runs them
/// unprivileged), and nothing world-readable in the state directory holds a secret.
@Suite(.enabled(if: NetworkNamespace.unavailableReason == nil && which("setpriv") != nil && which("keepalived") != nil,
                Comment(rawValue: NetworkNamespace.unavailableReason ?? "needs util-linux setpriv and keepalived (the test command installs them)")))
final class UnprivilegedReadKernelTests {
    let directory = TemporaryDirectory()
    let namespace: NetworkNamespace

    init() throws {
        namespace = try NetworkNamespace()
        // mkdtemp makes the folder 0700; another user must be able to walk into it, as into /.
        chmod(directory.path, 0o755)
    }

    deinit {
        namespace.remove()
        directory.remove()
    }

    var root: String { directory.file("root") }
    var state: String { directory.file("state") }

    /// Runs lvs-node in the namespace as `nobody`, with no capabilities.
    func asNobody(_ arguments: [String]) throws -> ProcessResult {
        try namespace.run(which("setpriv")!, ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                                             lvsNodeBinary] + arguments + ["--root", root, "--state-dir", state])
    }

    @Test func anHADirectorsStateIsReadableByAnyoneAndItsPasswordIsNot() throws {
        try namespace.ip(["link", "add", "eth0", "type", "veth", "peer", "name", "peer0"])
        try namespace.ip(["link", "set", "eth0", "up"])
        let spec = directory.file("director.yaml")
        try """
            role: director
            persist: none
            init: none
            services:
              - {vip: 192.0.2.10, port: 80, real-servers: [{address: 192.0.2.11}]}
            ha: {state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51, password: s3cret}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        chmod(spec, 0o644)
        if !hostHasIPVS { try installDirectorRoleWithoutIPVSSysctls(root: root) }
        let setup = try namespace.run(lvsNodeBinary, ["setup", "--config", spec, "--root", root, "--state-dir", state])
        #expect(setup.status == 0, "\(setup)")
        #expect(!setup.stdout.contains("s3cret"), "the plan masks the password: \(setup.stdout)")
        #expect(setup.stdout.contains("auth_pass ********"), "\(setup.stdout)")

        let status = try asNobody(["status"])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("not checked: /etc/keepalived/keepalived.conf is readable by root only"), "\(status)")
        #expect(status.stdout.contains("in place"), "\(status)")
        let history = try asNobody(["history"])
        #expect(history.status == 0, "\(history)")
        #expect(history.stdout.contains("1  "), "\(history)")
        let plan = try asNobody(["plan", "--config", spec])
        #expect([0, 2].contains(plan.status), "\(plan)")
        #expect(!plan.stdout.contains("s3cret"), "\(plan)")

        // Every file another user may read: none holds the password.
        let stateDirectory = URL(fileURLWithPath: state)
        for case let name as String in FileManager.default.enumerator(atPath: state)! {
            let path = stateDirectory.appendingPathComponent(name).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular,
                  let mode = attributes[.posixPermissions] as? Int, mode & 0o004 != 0 else { continue }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains("s3cret"), "\(name) (mode \(String(mode, radix: 8))) is world-readable and holds the password")
        }
        // Root still sees everything, and rollback puts the file back from the private store.
        let rootStatus = try namespace.run(lvsNodeBinary, ["status", "--root", root, "--state-dir", state])
        #expect(rootStatus.status == 0 && !rootStatus.stdout.contains("not checked"), "\(rootStatus)")
        #expect(try namespace.run(lvsNodeBinary, ["rollback", "--root", root, "--state-dir", state]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/keepalived/keepalived.conf"))
    }

    @Test func aRealServersStatusNeedsNoPrivilege() throws {
        let setup = try namespace.run(lvsNodeBinary, ["setup", "--role", "realserver", "--vip", "192.0.2.10", "--persist", "none",
                                                      "--init", "none", "--root", root, "--state-dir", state])
        #expect(setup.status == 0, "\(setup)")
        let status = try asNobody(["status"])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("in place: the host matches"), "\(status)")
        let setupAsNobody = try asNobody(["setup", "--role", "realserver", "--vip", "192.0.2.11"])
        #expect(setupAsNobody.status == 77, "\(setupAsNobody)")
    }
}
