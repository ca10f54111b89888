import NodeModel
import Testing

/// Issue #12 finding 7: each invalid `ha:` field gives exactly one error, at its own line, and none
/// about the interface the VIPs go on.
@Suite struct HAFieldErrorTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    static let valid = ["state: MASTER", "priority: 150", "interface: eth0", "virtual-router-id: 51", "password: secret"]

    @Test(arguments: [
        ("priority: 150", "priority: 999", "ha.priority"),
        ("virtual-router-id: 51", "virtual-router-id: 300", "ha.virtual-router-id"),
        ("password: secret", "password: ninechars", "ha.password"),
        ("state: MASTER", "state: master", "ha.state"),
    ])
    func anInvalidHAFieldGivesOneErrorAtItsLine(replacing: String, with bad: String, field: String) throws {
        let fields = Self.valid.map { $0 == replacing ? bad : $0 }
        let text = "role: director\nservices:\n  - vip: 192.0.2.10\n    port: 80\n    real-servers: [{address: 198.51.100.11}]\nha:\n"
            + fields.map { "  " + $0 + "\n" }.joined()
        let line = 7 + fields.firstIndex(of: bad)!
        do {
            _ = try SpecInput.fromYAML(text, source: "d.yaml").resolve(with: catalog)
            Issue.record("\(bad) was accepted")
        } catch let error as SpecErrors {
            #expect(error.errors.count == 1, "\(error)")
            #expect(error.errors.first?.location == "d.yaml line \(line)", "\(error)")
            #expect(error.errors.first?.message.contains(field) == true, "\(error)")
        }
    }

    @Test func theHASectionsPlaceIsKeptForTheCheckerOfItsFile() throws {
        let text = "role: director\nservices: [{vip: 192.0.2.10, port: 80}]\nha:\n" + Self.valid.map { "  " + $0 + "\n" }.joined()
        let spec = try SpecInput.fromYAML(text, source: "d.yaml").resolve(with: catalog).0
        #expect(spec.locations.ha == "d.yaml line 3 (ha)")
    }
}
