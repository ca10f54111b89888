import NodeModel
import Testing

/// Issue #11 findings 4 (YAML half), 9 and 11: hostile values are refused where they stand, in
/// bounded time, before anything could be rendered; legal edge values still resolve.
@Suite struct HostileValueTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func errors(_ yaml: String, source: String = "h.yaml") -> [String] {
        do {
            _ = try SpecInput.fromYAML(yaml, source: source).resolve(with: catalog)
            return []
        } catch let error as SpecErrors {
            return error.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    /// 1.3 KB that Yams expanded into 9^9 values (gigabytes, never ending).
    static let aliasBomb: String = {
        var lines = ["role: realserver", "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    // MARK: YAML

    @Test func anAliasBombIsRefusedAtItsFirstAnchorInBoundedTime() {
        let start = ContinuousClock.now
        let found = errors(Self.aliasBomb)
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(found == ["h.yaml line 2: YAML anchors (&a) are not accepted; write each value out where it is used"])
    }

    @Test func anAliasIsRefusedWithItsLine() {
        #expect(errors("role: realserver\nvips:\n  - *x\n").first?.hasPrefix("h.yaml line 3: YAML aliases (*name) are not accepted") == true)
    }

    @Test func anAliasBombInUserDataIsRefusedToo() {
        let start = ContinuousClock.now
        #expect {
            _ = try UserData.spec(in: "#cloud-config\nlvs_node:\n" + Self.aliasBomb.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"),
                                  source: "user-data")
        } throws: { error in "\(error)".contains("YAML anchors (&a) are not accepted") }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func aNULInsideAValueIsRefusedNotCutOff() {
        // Escaped in a double-quoted scalar: Yams handed "192.0.2.10" on and dropped the rest.
        #expect(errors("role: realserver\nvips: [\"192.0.2.10\\0junk\"]\n")
                == ["h.yaml line 2: this value holds a NUL character (\\0), which no setting may contain; remove it"])
        // As a raw byte: libyaml refuses control characters with the line they stand on.
        let raw = errors("role: realserver\nvips: [192.0.2.10]\n# \u{0}\n")
        #expect(raw.count == 1 && raw[0].hasPrefix("h.yaml line 3: this is not valid YAML: control characters are not allowed"), "\(raw)")
    }

    @Test func deepNestingIsRefusedBeforeItCostsAnything() {
        let deep = "role: realserver\nvips: " + String(repeating: "[", count: 100_000) + "\n"
        let start = ContinuousClock.now
        #expect(errors(deep).first?.contains("nested more than 64 levels deep") == true)
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func aSecondDocumentIsRefused() {
        #expect(errors("role: realserver\nvips: [192.0.2.10]\n---\nrole: director\n").first?.hasPrefix("h.yaml line 3: a second YAML document") == true)
    }

    // MARK: IPv4 in disguise (finding 11)

    @Test(arguments: [
        ("::ffff:127.0.0.1", "IPv4-mapped", "127.0.0.1"),
        ("::ffff:255.255.255.255", "IPv4-mapped", "255.255.255.255"),
        ("::127.0.0.1", "IPv4-compatible", "127.0.0.1"),
        ("::ffff:192.0.2.10", "IPv4-mapped", "192.0.2.10"),
        ("::2", "IPv4-compatible", "0.0.0.2"),
    ])
    func anIPv4AddressWrittenAsIPv6IsRefusedEverywhere(address: String, kind: String, ipv4: String) {
        let fields = [
            "role: realserver\nvips: [\"\(address)\"]\n",
            "role: realserver\nmode: nat\ngateway: \"\(address)\"\n",
            "role: router\naddresses: [{interface: eth1, address: \"\(address)/120\"}]\n",
            "role: router\nroutes: [{to: 2001:db8::/64, via: \"\(address)\"}]\n",
            "role: director\ninterface: eth0\nservices: [{vip: \"\(address)\", port: 80}]\n",
            "role: director\ninterface: eth0\nservices: [{vip: 2001:db8::10, port: 80, real-servers: [{address: \"\(address)\"}]}]\n",
            "role: director\nha: {state: MASTER, priority: 100, interface: eth0, virtual-router-id: 5, unicast-source: 2001:db8::1, unicast-peers: [\"\(address)\"]}\n",
        ]
        for yaml in fields {
            let found = errors(yaml)
            #expect(found.contains { $0.contains(kind) && $0.contains("write the IPv4 address \(ipv4) itself") }, "\(yaml): \(found)")
        }
    }

    @Test func ordinaryIPv6AddressesStillResolve() throws {
        let (spec, _) = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["2001:db8::10", "64:ff9b::c000:20a"])
            .resolve(with: catalog)
        #expect(spec.vips.map(\.description) == ["2001:db8::10", "64:ff9b::c000:20a"])
        #expect(errors("role: realserver\nvips: [\"::1\"]\n").first?.contains("the loopback address ::1; use a unicast address") == true)
    }

    // MARK: values that reach rendered files (finding 9)

    static let ha = "role: director\nha: {state: MASTER, priority: 100, virtual-router-id: 5, "

    @Test(arguments: [
        ("interface: \"e0\\n#\"", "h.yaml line 2: 'e0\n#' is not an interface name: the kernel does not allow a line break in a name"),
        ("interface: \"e0\\t\"", "the kernel does not allow a tab in a name"),
        ("interface: \"e 0\"", "the kernel does not allow a space in a name"),
        ("interface: \".\"", "the kernel does not allow '.' or '..' as a name"),
        ("interface: \"..\"", "the kernel does not allow '.' or '..' as a name"),
        ("interface: \"eth0/1\"", "the kernel does not allow '/' in a name"),
        ("interface: \"abcdefghijklmnop\"", "it is 16 bytes long; the kernel allows at most 15"),
        ("interface: \"e0#x\"", "'#' would change the meaning of the files it is written into"),
        ("interface: \"e0}\"", "'}' would change the meaning of the files it is written into"),
        ("interface: \"e0$x\"", "'$' would change the meaning of the files it is written into"),
        ("interface: \"e0\\u007f\"", "the kernel does not allow the control character 0x7F in a name"),
        ("interface: eth0, password: \"ab#cd\"", "ha.password is not a VRRP password keepalived can take: '#' is not allowed"),
        ("interface: eth0, password: \"ab\\tcd\"", "ha.password is not a VRRP password keepalived can take: a tab is not allowed"),
        ("interface: eth0, password: \"ab!cd\"", "'!' is not allowed"),
        ("interface: eth0, password: \"a{b}\"", "'{' is not allowed"),
        ("interface: eth0, password: \"pässwd\"", "a character beyond ASCII is not allowed"),
    ])
    func aValueThatWouldChangeKeepalivedConfIsRefused(field: String, message: String) {
        let found = errors(Self.ha + field + "}\nvips: [192.0.2.10]\n")
        #expect(found.contains { $0.contains(message) }, "\(found)")
        #expect(found.allSatisfy { $0.hasPrefix("h.yaml line 2") }, "\(found)")
    }

    @Test(arguments: ["/health#frag", "/a}b", "/a{b", "/a!b", "/a\\\"b", "/a b", "/a\\tb", "health"])
    func anHTTPCheckPathThatWouldChangeKeepalivedConfIsRefused(path: String) {
        let yaml = "role: director\ninterface: eth0\nservices:\n  - {vip: 192.0.2.10, port: 80, check: {type: http, path: \"\(path)\"}}\n"
        let found = errors(yaml)
        #expect(found.count == 1 && found[0].hasPrefix("h.yaml line 4: services[0].check.path is not a URL path keepalived can take"), "\(found)")
    }

    @Test func interfaceNamesAreCheckedForRoutersAndTheDirectorsInterfaceToo() {
        #expect(errors("role: router\naddresses: [{interface: \"eth1;reboot\", address: 203.0.113.1/24}]\n")
            .contains { $0.contains("';' would change the meaning") })
        #expect(errors("role: director\ninterface: \"eth0\\n\"\nservices: [{vip: 192.0.2.10, port: 80}]\n")
            .contains { $0.contains("the kernel does not allow a line break") })
    }

    @Test func legalEdgeValuesStillResolve() throws {
        // 13 bytes: keepalived labels the VIP abcdefghijklm:0, at the kernel's 15.
        for interface in ["eth0.100", "en-0_a", "abcdefghijklm", "e"] {
            let yaml = Self.ha + "interface: \(interface), password: \"Ab1-_~%&\"}\nvips: [192.0.2.10]\n"
                + "services: [{vip: 192.0.2.10, port: 80, check: {type: http, path: \"/health?x=1&y=%23\"}}]\n"
            let (spec, _) = try SpecInput.fromYAML(yaml, source: "h.yaml").resolve(with: catalog)
            #expect(spec.ha?.interface == interface)
            #expect(spec.ha?.password == "Ab1-_~%&")
        }
    }

    @Test func aFifteenByteInterfaceIsANameButTooLongForKeepalivedsLabels() throws {
        let (spec, _) = try SpecInput.fromYAML("role: router\naddresses: [{interface: abcdefghijklmno, address: 2001:db8::1/64}]\n",
                                               source: "h.yaml").resolve(with: catalog)
        #expect(spec.addresses.first?.interface == "abcdefghijklmno")
        #expect(errors(Self.ha + "interface: abcdefghijklmno}\nvips: [192.0.2.10]\n")
                == ["h.yaml line 2: keepalived labels the IPv4 VIPs abcdefghijklmno:0 to abcdefghijklmno:0, longer than the 15 bytes a label may have; use an interface with a shorter name"])
    }

    @Test func aRoleOverrideWithANameThatWouldBreakAUnitNameIsRefused() {
        let role = "name: \"evil\\nrole\"\nsummary: x\nmodes: {dr: x}\ndefault-mode: dr\nsteps: []\n"
        #expect(throws: SpecError.self) { try Role.parse(role, source: "roles/evil.yaml") }
        let mode = "name: evil\nsummary: x\nmodes: {\"dr x\": y}\ndefault-mode: \"dr x\"\nsteps: []\n"
        #expect { try Role.parse(mode, source: "roles/evil.yaml") } throws: { "\($0)".contains("the mode name 'dr x' is refused") }
    }
}
