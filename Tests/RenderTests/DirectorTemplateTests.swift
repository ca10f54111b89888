import Foundation
import HostAccess
import NodeModel
import Render
import Steps
import Testing
import TestSupport
@testable import Engine

/// The director's keepalived.conf: compared with its golden file, and accepted by keepalived itself
/// (`keepalived -t`, which also fails on warnings such as a protocol on a mark service).
@Suite(.enabled(if: which("keepalived") != nil && hostInterface != nil,
                "needs keepalived (installed by .ci/run) and a network interface its check can find"))
struct DirectorTemplateTests {
    static let spec = """
        role: director
        mode: dr
        persist: none
        init: none
        services:
          - vip: 192.0.2.10
            port: 80
            scheduler: wrr
            persistence: 300
            netmask: 255.255.255.0
            check: {type: http, path: /health, status: 200, connect-timeout: 2, retry: 2, delay-before-retry: 1, delay-loop: 5}
            inhibit-on-failure: true
            quorum: 3
            hysteresis: 1
            sorry-server: {address: 198.51.100.99}
            real-servers:
              - {address: 198.51.100.11, weight: 3, upper-threshold: 100, lower-threshold: 10}
              - {address: 198.51.100.12, forward: tun, check: {type: tcp}}
          - {fwmark: 1, vip: 192.0.2.10, ports: [80, 88], scheduler: sh, flags: [sh-port], alpha: false, real-servers: [{address: 198.51.100.11}]}
          - {vip: 2001:db8::10, port: 53, protocol: udp, scheduler: rr, flags: [ops], real-servers: [{address: 2001:db8::11}]}
        ha:
          state: MASTER
          priority: 150
          interface: IFACE
          virtual-router-id: 51
          password: s3cret
          unicast-source: 198.51.100.2
          unicast-peers: [198.51.100.3]
          sync-daemon: true
          notification-email: [ops@example.com, noc@example.com]
          notification-email-from: lvs@example.com
          smtp-server: 192.0.2.25
          notify-master: /bin/true
          notify-fault: /bin/true
        """

    @Test func keepalivedConfMatchesItsGoldenFileAndKeepalivedAcceptsIt() throws {
        let interface = try #require(hostInterface)
        let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
        let (spec, role) = try SpecInput.fromYAML(Self.spec.replacingOccurrences(of: "IFACE", with: interface), source: "d.yaml")
            .resolve(with: catalog)
        let kernel = FakeKernel(interfaces: ["lo", interface])
        let steps = try StepBuilder(spec: spec, previous: [], host: HostView(addresses: kernel, links: kernel, routes: kernel, packetFilter: kernel),
                                    renderer: TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil },
                                    context: RenderContext(binary: "/usr/local/sbin/lvs-node", root: "/", stateDirectory: "/var/lib/lvs-node"))
            .desiredSteps(for: role)
        let state = try #require(steps.flatMap(\.desired).first { $0.subject == "/etc/keepalived/keepalived.conf" }?.state)
        #expect(state.hasPrefix("file 0600\n"))
        let content = String(state.dropFirst("file 0600\n".count))

        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try content.write(toFile: directory.file("keepalived.conf"), atomically: true, encoding: .utf8)
        let check = try runProcess(try #require(which("keepalived")), ["-t", "-f", directory.file("keepalived.conf")])
        #expect(check.status == 0, "\(check)")

        let golden = TemplateGoldenTests.golden.appendingPathComponent("keepalived.conf")
        let portable = content.replacingOccurrences(of: "interface \(interface)\n", with: "interface eth0\n")
            .replacingOccurrences(of: "dev \(interface) label \(interface):", with: "dev eth0 label eth0:")
            .replacingOccurrences(of: "dev \(interface)\n", with: "dev eth0\n")
        if ProcessInfo.processInfo.environment["LVS_NODE_UPDATE_GOLDEN"] != nil {
            try portable.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(portable == (try String(contentsOf: golden, encoding: .utf8)))
    }
}
