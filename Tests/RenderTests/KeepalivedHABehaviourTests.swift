import Foundation
import NodeModel
import Render
@testable import Steps
import Testing
import TestSupport

/// Each HA behaviour key (issue #15) as keepalived.conf lines in the right block, and the whole file
/// accepted by keepalived itself (`keepalived -t` exits non-zero on an unknown keyword or a keyword
/// in the wrong block, so a misplaced `alpha` or `lvs_sync_daemon` fails here).
@Suite(.enabled(if: which("keepalived") != nil && hostInterface != nil,
                "needs keepalived (installed by Tests/run) and a network interface its check can find"))
struct KeepalivedHABehaviourTests {
    func render(service extra: String = "", check: String = "{type: tcp}", ha: String = "") throws -> String {
        let interface = try #require(hostInterface)
        let yaml = """
            role: director
            persist: none
            init: none
            services:
              - {vip: 192.0.2.10, port: 80, check: \(check), real-servers: [{address: 198.51.100.11, weight: 2}, {address: 198.51.100.12}]\(extra)}
            ha: {state: MASTER, priority: 150, interface: \(interface), virtual-router-id: 51\(ha)}
            """
        let (spec, _) = try SpecInput.fromYAML(yaml, source: "ha.yaml").resolve(with: RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil })
        let values = DirectorTemplateValues.values(spec).merging(["role": spec.role, "mode": spec.mode]) { $1 }
        let content = try TemplateRenderer(overrideDirectory: "/nonexistent") { _ in nil }.render("keepalived.conf", values)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try content.write(toFile: directory.file("keepalived.conf"), atomically: true, encoding: .utf8)
        let check = try runProcess(try #require(which("keepalived")), ["-t", "-f", directory.file("keepalived.conf")])
        #expect(check.status == 0, "keepalived -t refused:\n\(content)\n\(check)")
        return content
    }

    /// The lines of the block that starts with `header` (e.g. `virtual_server 192.0.2.10 80 {`),
    /// trimmed, up to its closing brace at the same depth.
    func block(_ content: String, _ header: String) -> [String] {
        var depth = 0
        var found: [String] = []
        for line in content.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if depth == 0 && line != header { continue }
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
            found.append(line)
            if depth == 0 { break }
        }
        return found
    }

    @Test func checkTimingDefaultsToTodaysValuesInTheCheckerBlock() throws {
        let lines = block(try render(), "TCP_CHECK {")
        #expect(lines == ["TCP_CHECK {", "connect_timeout 3", "retry 3", "delay_before_retry 3", "delay_loop 6", "}"])
        let faster = block(try render(check: "{type: tcp, delay-loop: 2, connect-timeout: 1, retry: 1, delay-before-retry: 1}"), "TCP_CHECK {")
        #expect(faster == ["TCP_CHECK {", "connect_timeout 1", "retry 1", "delay_before_retry 1", "delay_loop 2", "}"])
    }

    /// Before issue #15 the file had no `alpha`: keepalived put a new real server in the table before
    /// its first check.
    @Test func aNewRealServerStartsDownUntilItsFirstCheckPassesByDefault() throws {
        let service = block(try render(), "virtual_server 192.0.2.10 80 {")
        #expect(service.contains("alpha"))
        #expect(!service.contains("inhibit_on_failure"))
        #expect(!block(try render(service: ", alpha: false"), "virtual_server 192.0.2.10 80 {").contains("alpha"))
    }

    @Test func inhibitOnFailureIsWrittenWhereTheOperatorAsksForIt() throws {
        #expect(block(try render(service: ", inhibit-on-failure: true"), "virtual_server 192.0.2.10 80 {").contains("inhibit_on_failure"))
    }

    @Test func aQuorumComesWithItsSorryServer() throws {
        let service = block(try render(service: ", quorum: 2, hysteresis: 1, sorry-server: {address: 198.51.100.99}"),
                            "virtual_server 192.0.2.10 80 {")
        #expect(service.contains("quorum 2") && service.contains("hysteresis 1"))
        #expect(service.contains("sorry_server 198.51.100.99 80") && service.contains("sorry_server_lvs_method DR"))
    }

    @Test func theSyncDaemonRunsOnTheVRRPInterfaceForThePairsInstance() throws {
        let interface = try #require(hostInterface)
        let global = block(try render(ha: ", sync-daemon: true"), "global_defs {")
        #expect(global.contains("lvs_sync_daemon \(interface) inst VI_51 id 51"))
        #expect(!block(try render(), "global_defs {").contains { $0.hasPrefix("lvs_sync_daemon") })
    }

    @Test func mailAndNotifyScriptsGoWhereKeepalivedReadsThem() throws {
        let content = try render(ha: """
            , notification-email: [ops@example.com], notification-email-from: lvs@example.com, smtp-server: 192.0.2.25,
              smtp-connect-timeout: 10, notify-master: /bin/true, notify-backup: /bin/true, notify-fault: /bin/true
            """)
        #expect(block(content, "global_defs {") == [
            "global_defs {", "router_id lvs_node_51", "notification_email {", "ops@example.com", "}",
            "notification_email_from lvs@example.com", "smtp_server 192.0.2.25", "smtp_connect_timeout 10",
            "script_user root", "enable_script_security", "}",
        ])
        let instance = block(content, "vrrp_instance VI_51 {")
        for line in ["smtp_alert", "notify_master /bin/true", "notify_backup /bin/true", "notify_fault /bin/true"] {
            #expect(instance.contains(line), "\(line)")
        }
    }
}
