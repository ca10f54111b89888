import Foundation
import NodeModel
import Testing

/// The spec `show` prints (and each generation keeps) reads back to an equal spec: nothing of a
/// director's services, checks, HA section or unicast peers is lost, and any value the reader
/// accepts survives quoting.
@Suite struct SpecYAMLRoundTripTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func resolve(_ text: String) throws -> NodeSpec {
        try SpecInput.fromYAML(text, source: "spec.yaml").resolve(with: catalog).0
    }

    /// spec → YAML → spec is the identity, and the YAML is canonical (written again, the same text).
    func expectRoundTrip(_ spec: NodeSpec, _ label: String) {
        do {
            let again = try resolve(spec.yaml)
            #expect(again == spec, "\(label): read back differently\n\(spec.yaml)")
            #expect(again.yaml == spec.yaml, "\(label): not canonical")
        } catch {
            Issue.record("\(label): the written spec does not read back: \(error)\n\(spec.yaml)")
        }
    }

    @Test func everyReadmeSpecSurvivesTheRoundTrip() throws {
        let specs = try ReadmeSpecTests.specs()
        #expect(specs.count >= 9)
        for (index, text) in specs.enumerated() {
            expectRoundTrip(try resolve(text), "README example \(index + 1)")
        }
    }

    @Test func aDirectorsChecksHASectionAndPeersSurvive() throws {
        let spec = try resolve("""
            role: director
            mode: nat
            interface: eth0.100
            services:
              - {protocol: tcp, vip: 192.0.2.10, port: 80, scheduler: sh, flags: [sh-port, sh-fallback], persistence: 600,
                 netmask: 255.255.255.0, check: {type: http, path: "/health?x=1&y=%23", status: 204, connect-timeout: 5, retry: 0, delay-before-retry: 9},
                 real-servers: [{address: 198.51.100.11, port: 8080, weight: 0, upper-threshold: 100, lower-threshold: 10, check: {type: tcp, retry: 7}},
                                {address: 198.51.100.12, port: 8081, weight: 65535}]}
              - {protocol: udp, vip: 2001:db8::10, port: 53, scheduler: rr, flags: [ops], real-servers: [{address: 2001:db8::11}]}
              - {fwmark: 7, protocol: tcp, vip: 192.0.2.11, ports: [80, 443], scheduler: mh, flags: [mh-port], persistence: 30,
                 real-servers: [{address: 198.51.100.13, forward: dr}]}
              - {fwmark: 4294967295, scheduler: wlc, real-servers: [{address: 198.51.100.14, forward: tun}]}
              - {protocol: sctp, vip: 192.0.2.12, port: 0, persistence: 1, scheduler: lc}
            timeouts: {tcp: 900, udp: 30}
            owns-table: true
            drain: 3600
            ha: {state: BACKUP, priority: 254, interface: eth0.100, virtual-router-id: 255, advert-int: 3, password: "a'b:c,[]",
                 unicast-source: 203.0.113.1, unicast-peers: [203.0.113.2, 203.0.113.3]}
            persist: none
            init: systemd
            """)
        #expect(spec.ha?.unicastPeers.count == 2 && spec.ipvs?.services.count == 5)
        expectRoundTrip(spec, "director")
    }

    @Test func edgeValuesTheReaderAcceptsSurvive() throws {
        let passwords = ["12345678", "'", "a:b", "-x", "*x", "&a", "%p", "@x", "`x", "|", ">", "?", "y", "no", "null", "~", "0x1", "1e3", "a,b", "[", "]"]
        for password in passwords {
            let spec = try resolve("""
                role: director
                mode: dr
                services: [{vip: 192.0.2.10, port: 80, check: {type: http, path: "/\(password)"}, real-servers: [{address: 198.51.100.11}]}]
                ha: {state: MASTER, priority: 100, interface: eth0, virtual-router-id: 1, password: "\(password)"}
                """)
            #expect(spec.ha?.password == password)
            expectRoundTrip(spec, "password \(password)")
        }
        for name in ["eth0.100", "0", "-", "_x", "a-b.c_d", "123456789012345"] {
            expectRoundTrip(try resolve("role: router\naddresses: [{interface: \"\(name)\", address: 2001:db8::1/64}]\nroutes: [{to: default, via: 2001:db8::fe}]\nipv6-forwarding: true\n"),
                            "interface \(name)")
        }
        expectRoundTrip(try resolve("role: realserver\nmode: tun\nvips: [192.0.2.10, 2001:db8::10]\ntun: {mss: 536}\n"), "realserver tun")
        expectRoundTrip(try resolve("role: realserver\nmode: nat\ngateway: 192.0.2.1\npersist: ifcfg\ninit: sysv\n"), "realserver nat")
    }

    @Test func aMaskedSpecHidesOnlyThePassword() throws {
        let spec = try resolve("role: director\nmode: dr\nha: {state: MASTER, priority: 100, interface: eth0, virtual-router-id: 1, password: s3cret}\n")
        #expect(!spec.maskedYAML.contains("s3cret") && spec.yaml.contains("\"s3cret\""))
        #expect(spec.maskedYAML == spec.yaml.replacingOccurrences(of: "\"s3cret\"", with: "\"********\""))
    }

    @Test func theMaskedPasswordIsRefusedSoAMaskedShowCannotChangeThePairsPassword() throws {
        let spec = try resolve("role: director\nmode: dr\nha: {state: MASTER, priority: 100, interface: eth0, virtual-router-id: 1, password: s3cret}\n")
        #expect {
            _ = try resolve(spec.maskedYAML)
        } throws: { "\($0)".contains("the mask lvs-node show prints") }
    }
}
