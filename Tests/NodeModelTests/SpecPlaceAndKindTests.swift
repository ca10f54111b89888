import NodeModel
import Testing

/// Issue #12 findings 1 and 4: a value from a spec file keeps its file and line into the validated
/// spec (for the checks that need the host), and a missing required value is a usage error when
/// flags left it out and a data error naming the file when a spec file did.
@Suite struct SpecPlaceAndKindTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func errors(_ input: SpecInput) -> [SpecError] {
        do {
            _ = try input.resolve(with: catalog)
            return []
        } catch let error as SpecErrors {
            return error.errors
        } catch {
            return [error as? SpecError ?? SpecError("?", "\(error)")]
        }
    }

    @Test func routesAndGatewayFromAFileKeepTheirLines() throws {
        let router = try SpecInput.fromYAML("""
            role: router
            addresses:
              - {interface: eth1, address: 203.0.113.200/24}
            routes:
              - {to: 198.51.100.0/24, via: 203.0.113.254}
            """, source: "node.yaml").resolve(with: catalog).0
        #expect(router.locations.routes == ["node.yaml line 5 (routes[0].via)"])
        #expect(router.locations.addresses == ["node.yaml line 3 (addresses[0].interface)"])
        let nat = try SpecInput.fromYAML("role: realserver\nmode: nat\ngateway: 192.0.2.1\n", source: "node.yaml").resolve(with: catalog).0
        #expect(nat.locations.gateway == "node.yaml line 3 (gateway)")
    }

    @Test func routesFromFlagsAreNamedByTheirFlag() throws {
        let spec = try SpecInput.fromFlags(role: "router", mode: nil, vips: [], routes: ["198.51.100.0/24 via 203.0.113.254"])
            .resolve(with: catalog).0
        #expect(spec.locations.routes == ["--route"])
        #expect(spec.locations.source == nil)
    }

    @Test func whereAValueWasGivenDoesNotMakeTwoSpecsDiffer() throws {
        let fromFile = try SpecInput.fromYAML("role: realserver\nvips: [192.0.2.10]\n", source: "a.yaml").resolve(with: catalog).0
        let fromFlags = try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.10"]).resolve(with: catalog).0
        #expect(fromFile == fromFlags)
    }

    @Test(arguments: [("dr", "--vip"), ("tun", "--vip"), ("nat", "--gateway")])
    func aRequiredFlagLeftOutIsAUsageError(mode: String, flag: String) throws {
        let found = errors(try SpecInput.fromFlags(role: "realserver", mode: mode, vips: []))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.location == flag)
        #expect(found.first?.kind == .usage)
        #expect(SpecErrors(found).isUsage)
    }

    @Test(arguments: ["dr", "tun", "nat"])
    func aSpecFileWithoutARequiredFieldIsADataErrorAtItsRole(mode: String) throws {
        let found = errors(try SpecInput.fromYAML("mode: \(mode)\nrole: realserver\n", source: "node.yaml"))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.location == "node.yaml line 2 (role)")
        #expect(found.first?.kind == .data)
        #expect(found.first?.message.contains(mode == "nat" ? "gateway: DIP" : "vips: [ADDRESS]") == true, "\(found)")
    }

    @Test func invalidVIPsAreNotAlsoReportedAsMissing() throws {
        let found = errors(try SpecInput.fromFlags(role: "realserver", mode: nil, vips: ["192.0.2.256"]))
        #expect(found.count == 1 && found[0].kind == .data, "\(found)")
    }

    @Test func aDirectorOfMarkServicesNeedsNoVIP() throws {
        let found = errors(try SpecInput.fromYAML("role: director\nservices: [{fwmark: 7, real-servers: [{address: 198.51.100.11}]}]\n", source: "d.yaml"))
        #expect(!found.contains { $0.message.contains("needs at least one VIP") }, "\(found)")
    }

    @Test func theSameRouterAddressTwiceIsADataErrorNamingBothPlaces() throws {
        let flags = errors(try SpecInput.fromFlags(role: "router", mode: nil, vips: [],
                                                   addresses: ["eth1=203.0.113.200/24", "eth1=203.0.113.200/24"]))
        #expect(flags.map(\.description) == ["--address: the address 203.0.113.200 on eth1 is listed twice (first at --address); list each address once"])
        #expect(flags.first?.kind == .data)
        let file = errors(try SpecInput.fromYAML("""
            role: router
            addresses:
              - {interface: eth1, address: 203.0.113.200/24}
              - {interface: eth1, address: 203.0.113.200/25}
            """, source: "r.yaml"))
        #expect(file.map(\.description)
                == ["r.yaml line 4 (addresses[1].interface): the address 203.0.113.200 on eth1 is listed twice (first at r.yaml line 3 (addresses[0].interface)); list each address once"])
    }

    @Test func aSpecFileWithoutARoleNamesTheFileNotAFlag() throws {
        let found = errors(try SpecInput.fromYAML("vips: [192.0.2.10]\n", source: "node.yaml"))
        #expect(found.map(\.description) == ["node.yaml: the spec needs role: one of director, realserver, router"])
        #expect(found.first?.kind == .data)
        let flags = errors(SpecInput())
        #expect(flags.first?.location == "--role" && flags.first?.kind == .usage)
    }

    @Test func aDirectorSpecFileWithoutItsInterfaceNamesTheFile() throws {
        let found = errors(try SpecInput.fromYAML("role: director\nservices: [{vip: 192.0.2.10, port: 80}]\n", source: "d.yaml"))
        #expect(found.map(\.description)
                == ["d.yaml line 1 (role): the director needs the interface its VIPs go on: interface: eth0 (or lo for a VIP routed to it)"])
        #expect(found.first?.kind == .data)
    }
}
