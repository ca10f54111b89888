import NodeModel
import Testing

@Suite struct SpecValidationTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func errors(_ input: SpecInput) -> [SpecError] {
        do {
            _ = try input.resolve(with: catalog)
            return []
        } catch let error as SpecErrors {
            return error.errors
        } catch let error as SpecError {
            return [error]
        } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test func aGoodSpecResolvesWithTheDefaultMode() throws {
        let (spec, role) = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10", "2001:DB8::0:10"])
            .resolve(with: catalog)
        #expect(spec.mode == "dr")
        #expect(spec.vips.map(\.description) == ["192.0.2.10", "2001:db8::10"])
        #expect(role.steps(for: "dr").map(\.name) == ["arp-suppression", "vips", "sysctl-file"])
        #expect(spec.persist == .auto && spec.initSystem == .auto)
    }

    @Test func persistAndInitChooseTheRoleSteps() throws {
        let (spec, role) = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10"], persist: "netplan", initSystem: "systemd")
            .resolve(with: catalog)
        #expect(role.steps(for: spec.mode, conditions: spec.conditions).map(\.name)
                == ["arp-suppression", "vips", "sysctl-file", "netplan", "systemd-unit", "systemd-enable"])
        let sysv = role.steps(for: "dr", conditions: ["persist": "ifcfg", "init": "sysv"]).map(\.name)
        #expect(sysv == ["arp-suppression", "vips", "sysctl-file", "ifcfg", "sysv-script", "sysv-links"])
        let found = errors(try! SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10"], persist: "networkd", initSystem: "upstart"))
        #expect(found.map(\.message) == ["'networkd' is not a choice for persist; use one of: auto, netplan, ifcfg, none",
                                          "'upstart' is not a choice for init; use one of: auto, systemd, sysv, none"])
    }

    @Test(arguments: [
        ("192.0.2.300", "not an IP address"),
        ("192.0.2.10/32", "without a prefix"),
        ("127.0.0.5", "loopback"),
        ("224.0.0.18", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "broadcast"),
        ("::1", "loopback"),
        ("ff02::1", "multicast"),
        ("fe80::1", "link-local"),
        ("", "not an IP address"),
    ])
    func aBadVIPIsRefusedWithTheReason(vip: String, reason: String) {
        let found = errors(try! SpecInput.fromFlags(role: "realserver", mode: nil, vips: [vip]))
        #expect(found.count == 1)
        #expect(found.first?.location == "--vip")
        #expect(found.first?.message.contains(reason) == true, "\(found)")
    }

    @Test func duplicatesAreRefusedEvenWhenSpelledDifferently() {
        let found = errors(try! SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["2001:db8::10", "2001:DB8:0::10"]))
        #expect(found.map(\.message) == ["VIP 2001:db8::10 is listed twice (first at --vip); list each VIP once"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let found = errors(try! SpecInput.fromFlags(role: "realserver", mode: "fullnat", vips: ["127.0.0.1", "x"]))
        #expect(found.count == 3)
        #expect(found[0].message.contains("has no mode 'fullnat'; its modes are: dr"))
    }

    @Test func anUnknownRoleNamesTheKnownOnes() {
        let found = errors(try! SpecInput.fromFlags(role: "balancer", mode: nil, vips: []))
        #expect(found.first?.message == "unknown role 'balancer'; the roles are: director, realserver, router")
    }

    @Test func anOperatorRoleOverridesTheShippedOne() throws {
        let text = """
            name: realserver
            summary: site variant
            modes: {dr: direct routing}
            default-mode: dr
            steps:
              - {name: only-vips, kind: vip-addresses, modes: [dr], device: lo, label: "lo:{n}"}
            """
        let overriding = RoleCatalog(overrideDirectory: "/etc/lvs-node/roles") { path in
            path == "/etc/lvs-node/roles/realserver.yaml" ? text : nil
        }
        let (_, role) = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10"]).resolve(with: overriding)
        #expect(role.summary == "site variant")
        #expect(role.steps.map(\.name) == ["only-vips"])
    }
}

@Suite struct SpecFileTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    @Test func theYAMLSpecReadsLikeTheFlags() throws {
        let input = try SpecInput.fromYAML("role: realserver\nmode: dr\nvips:\n  - 192.0.2.10\n  - 192.0.2.11\n", source: "node.yaml")
        let (spec, _) = try input.resolve(with: catalog)
        #expect(spec.vips.map(\.description) == ["192.0.2.10", "192.0.2.11"])
        // The stored form reads back to the same spec.
        let (again, _) = try SpecInput.fromYAML(spec.yaml, source: "stored").resolve(with: catalog)
        #expect(again == spec)
    }

    @Test func anUnknownKeyIsNamedWithItsLine() {
        #expect {
            try SpecInput.fromYAML("role: realserver\nvip: 192.0.2.10\n", source: "node.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("node.yaml line 2") && text.contains("unknown key 'vip'") && text.contains("role, mode, vips")
        }
    }

    @Test func aWrongTypeSaysWhatWasExpected() {
        #expect {
            try SpecInput.fromYAML("role: realserver\nvips: 192.0.2.10\n", source: "node.yaml")
        } throws: { error in
            "\(error)" == "node.yaml line 2: vips must be a list, but this is a single value"
        }
        #expect {
            try SpecInput.fromYAML("role: [realserver]\n", source: "node.yaml")
        } throws: { error in "\(error)".contains("role must be a single value, but this is a list") }
    }

    @Test func aBadVIPInTheFileNamesTheLineAndIndex() {
        #expect {
            try SpecInput.fromYAML("role: realserver\nvips:\n  - 192.0.2.10\n  - 127.0.0.1\n", source: "node.yaml").resolve(with: catalog)
        } throws: { error in
            "\(error)".hasPrefix("node.yaml line 4 (vips[1]): 127.0.0.1 cannot be a VIP because it is a loopback address")
        }
    }

    /// The first place is spelled out only when the second is refused (locations are no longer built
    /// for every VIP): both must still name their line and index.
    @Test func aVIPListedTwiceInTheFileNamesBothPlaces() {
        #expect {
            try SpecInput.fromYAML("role: realserver\nvips:\n  - 192.0.2.10\n  - 192.0.2.11\n  - 192.0.2.10\n", source: "node.yaml")
                .resolve(with: catalog)
        } throws: { error in
            "\(error)".hasPrefix("node.yaml line 5 (vips[2]): VIP 192.0.2.10 is listed twice (first at node.yaml line 3 (vips[0])); list each VIP once")
        }
        #expect {
            try SpecInput.fromYAML("role: realserver\nvips:\n  - [192.0.2.10]\n", source: "node.yaml")
        } throws: { error in "\(error)" == "node.yaml line 3: vips[0] must be a single value, but this is a list" }
    }

    @Test func brokenYAMLAndDuplicateKeysAreRefused() {
        #expect(throws: SpecError.self) { try SpecInput.fromYAML("role: [realserver\n", source: "node.yaml") }
        #expect {
            try SpecInput.fromYAML("role: realserver\nrole: director\n", source: "node.yaml")
        } throws: { error in "\(error)" == "node.yaml line 2: the key 'role' is given twice in one mapping (first at line 1); keep one" }
        #expect(throws: SpecError.self) { try SpecInput.fromYAML("- role\n", source: "node.yaml") }
    }

    /// Duplicate keys are looked for in place in small mappings and by a table in large ones: found
    /// in either, wherever in the mapping they stand, with the line of the first.
    @Test(arguments: [1, 15, 16, 17, 40])
    func aDuplicateKeyIsFoundInAMappingOfAnySize(keys: Int) {
        let lines = (0..<keys).map { "k\($0): \($0)" }
        for duplicate in Set([0, keys / 2, keys - 1]) {
            let yaml = (lines + ["k\(duplicate): again"]).joined(separator: "\n") + "\n"
            #expect {
                try YAMLValue.parse(yaml, source: "d.yaml")
            } throws: { error in
                "\(error)" == "d.yaml line \(keys + 1): the key 'k\(duplicate)' is given twice in one mapping (first at line \(duplicate + 1)); keep one"
            }
        }
        #expect((try? YAMLValue.parse(lines.joined(separator: "\n") + "\n", source: "d.yaml")) != nil)
    }
}
