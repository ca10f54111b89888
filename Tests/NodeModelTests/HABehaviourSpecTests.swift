import NodeModel
import Testing

/// The keepalived behaviour keys (issue #15, HA behaviour): check timing, alpha, inhibit-on-failure,
/// quorum with its sorry server, the sync daemon and notification: what resolves, each refusal, the
/// pair check, and that `show`'s YAML reads back to the same spec.
@Suite struct HABehaviourSpecTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }
    static let ha = "ha: {state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51"

    func resolve(_ body: String) throws -> NodeSpec {
        try SpecInput.fromYAML("role: director\nmode: dr\ninterface: eth0\n" + body, source: "d.yaml").resolve(with: catalog).0
    }

    func messages(_ body: String) -> [String] {
        do {
            _ = try resolve(body)
            return []
        } catch let error as SpecErrors {
            return error.errors.map(\.message)
        } catch {
            return ["\(error)"]
        }
    }

    func service(_ extra: String) -> String {
        "services: [{vip: 192.0.2.10, port: 80, real-servers: [{address: 192.0.2.11, weight: 2}, {address: 192.0.2.12}]\(extra)}]\n"
    }

    @Test func checkTimingDefaultsToTodaysValuesAndTakesTheDelayLoop() throws {
        let defaults = try resolve("services: [{vip: 192.0.2.10, port: 80, check: {type: tcp}}]\n")
        #expect(defaults.ipvs?.services[0].check == .tcp(HealthCheck.Timing(connectTimeout: 3, retry: 3, delayBeforeRetry: 3, delayLoop: 6)))
        let given = try resolve("services: [{vip: 192.0.2.10, port: 80, check: {type: tcp, delay-loop: 2, retry: 1}}]\n")
        #expect(given.ipvs?.services[0].check == .tcp(HealthCheck.Timing(retry: 1, delayLoop: 2)))
        #expect(messages("services: [{vip: 192.0.2.10, port: 80, check: {delay-loop: 0}}]\n")
                == ["services[0].check.delay-loop '0' must be a whole number from 1 to 3600"])
    }

    @Test func alphaIsOnAndInhibitOnFailureOffUnlessTheOperatorSaysOtherwise() throws {
        #expect(try resolve(service("")).ipvs?.services[0].health == HealthPolicy(alpha: true, inhibitOnFailure: false))
        let asked = try resolve(service(", alpha: false, inhibit-on-failure: true"))
        #expect(asked.ipvs?.services[0].health == HealthPolicy(alpha: false, inhibitOnFailure: true))
        #expect(messages(service(", alpha: maybe")) == ["services[0].alpha 'maybe' is not true or false"])
    }

    @Test func aQuorumNeedsASorryServerAndRealServersEnoughToReachIt() throws {
        let spec = try resolve(service(", quorum: 2, hysteresis: 1, sorry-server: {address: 192.0.2.99}"))
        #expect(spec.ipvs?.services[0].health.sorryServer == SorryServer(address: IPAddress("192.0.2.99")!, port: 80, forwarding: .dr))
        #expect(spec.ipvs?.services[0].health.quorum == 2)
        #expect(messages(service(", quorum: 2")).first?.hasPrefix("services[0].quorum needs a sorry-server") == true)
        #expect(messages(service(", quorum: 4, sorry-server: {address: 192.0.2.99}"))
                == ["services[0].quorum 4 (+ hysteresis 0) is more than the total weight of its real servers (3); the sorry server would answer for good"])
        #expect(messages(service(", quorum: 2, hysteresis: 2, sorry-server: {address: 192.0.2.99}")).contains(
            "services[0].hysteresis 2 must be below the quorum (2), or the service would never lose its quorum"))
        #expect(messages(service(", sorry-server: {address: 192.0.2.99, port: 8080}")).first?.contains(
            "the sorry server's port must be the service's (80); only nat maps ports") == true)
        #expect(messages(service(", sorry-server: {address: 224.0.0.1}")).first?.hasPrefix("224.0.0.1 cannot be a sorry server") == true)
        #expect(messages(service(", sorry-server: {address: 2001:db8::99, forward: nat}"))
                == ["NAT cannot forward an IPv4 service to the sorry server 2001:db8::99; use an address of the VIP's family"])
    }

    @Test func theSyncDaemonTakesTheVirtualRouterIDAsItsIDUnlessGivenOne() throws {
        #expect(try resolve("\(Self.ha), sync-daemon: true}\n").ha?.syncDaemon == SyncDaemon(id: 51))
        #expect(try resolve("\(Self.ha), sync-daemon: true, sync-id: 7}\n").ha?.syncDaemon == SyncDaemon(id: 7))
        #expect(try resolve("\(Self.ha)}\n").ha?.syncDaemon == nil)
        #expect(messages("\(Self.ha), sync-id: 7}\n") == ["ha.sync-id belongs to the sync daemon; add sync-daemon: true"])
    }

    @Test func notificationResolves() throws {
        let spec = try resolve("""
            \(Self.ha), notification-email: [ops@example.com, noc+lvs@example.org], notification-email-from: lvs@example.com,
                smtp-server: 192.0.2.25, smtp-connect-timeout: 10, notify-master: /usr/local/sbin/on-master,
                notify-fault: /usr/local/sbin/on-fault, script-user: keepalived_script}

            """)
        #expect(spec.ha?.notification == HANotification(
            emails: ["ops@example.com", "noc+lvs@example.org"], emailFrom: "lvs@example.com", smtpServer: "192.0.2.25",
            smtpConnectTimeout: 10, notifyMaster: "/usr/local/sbin/on-master", notifyFault: "/usr/local/sbin/on-fault",
            scriptUser: "keepalived_script"))
        #expect(try resolve("\(Self.ha), notify-backup: /bin/true}\n").ha?.notification.scriptUser == "root")
    }

    /// Each value lands unquoted in keepalived.conf, where `#`/`!` start a comment, `{`/`}` a block, a space
    /// a new word and a line break a new keyword: every such value is refused before anything is written.
    @Test(arguments: [
        ("notification-email: [\"ops@example.com }\"]", "ha.notification-email[0] 'ops@example.com }' is not a mail address"),
        ("notification-email: [\"ops#x@example.com\"]", "ha.notification-email[0] 'ops#x@example.com' is not a mail address"),
        ("notification-email: [ops], smtp-server: 192.0.2.25", "ha.notification-email[0] 'ops' is not a mail address"),
        ("notification-email: [a@b.c], notification-email-from: \"x@y.z\\nvrrp_script\", smtp-server: 192.0.2.25",
         "ha.notification-email-from 'x@y.z\nvrrp_script' is not a mail address"),
        ("notification-email: [a@b.c], smtp-server: \"mail.example.com!\"", "ha.smtp-server 'mail.example.com!' is neither an IP address nor a host name"),
        ("notify-master: \"/bin/sh -c reboot\"", "ha.notify-master '/bin/sh -c reboot' is not a script path"),
        ("notify-backup: relative/script", "ha.notify-backup 'relative/script' is not a script path"),
        ("notify-fault: /usr/../tmp/x", "ha.notify-fault '/usr/../tmp/x' is not a script path"),
        ("notify-fault: /bin/true, script-user: \"root }\"", "ha.script-user 'root }' is not a user name"),
        ("notify-fault: /bin/true, script-user: \"x$\"", "ha.script-user 'x$' is not a user name"),
    ])
    func aHostileNotificationValueIsRefused(given: String, refusal: String) {
        let found = messages("\(Self.ha), \(given)}\n")
        #expect(found.contains { $0.hasPrefix(refusal) }, "\(found)")
    }

    @Test func halfAMailSetupOrAStrayScriptUserIsRefused() {
        #expect(messages("\(Self.ha), notification-email: [ops@example.com]}\n")
                == ["mail needs both ha.notification-email: [ops@example.com] and ha.smtp-server: ADDRESS"])
        #expect(messages("\(Self.ha), smtp-server: 192.0.2.25}\n")
                == ["mail needs both ha.notification-email: [ops@example.com] and ha.smtp-server: ADDRESS"])
        #expect(messages("\(Self.ha), script-user: nobody}\n")
                == ["ha.script-user is the user the notify scripts run as; give notify-master, notify-backup or notify-fault"])
    }

    @Test func aPairWhoseSyncDaemonSettingsDifferIsRefused() throws {
        func node(_ name: String, _ ha: String) throws -> HAPairCheck.Node {
            HAPairCheck.Node(source: name, spec: try resolve("services: [{vip: 192.0.2.10, port: 80}]\nha: {\(ha)}\n"))
        }
        let master = try node("a.yaml", "state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51, sync-daemon: true")
        let backup = try node("b.yaml", "state: BACKUP, priority: 100, interface: eth0, virtual-router-id: 51, sync-daemon: true, sync-id: 51")
        #expect(HAPairCheck.problems([master, backup]).isEmpty)
        let without = try node("b.yaml", "state: BACKUP, priority: 100, interface: eth0, virtual-router-id: 51")
        #expect(HAPairCheck.problems([master, without]).map(\.description)
                == ["b.yaml: the sync daemon (sync-daemon: false) differs from the MASTER's (sync-daemon: true, sync-id: 51, a.yaml); the backup would not keep the master's connection table, so established connections would break on failover; give both the same sync-daemon and sync-id"])
        let otherID = try node("b.yaml", "state: BACKUP, priority: 100, interface: eth0, virtual-router-id: 51, sync-daemon: true, sync-id: 9")
        #expect(HAPairCheck.problems([master, otherID]).count == 1)
    }

    @Test func showPrintsTheNewKeysSoTheSpecReadsBackEqual() throws {
        let spec = try resolve("""
            services:
              - {vip: 192.0.2.10, port: 80, alpha: false, inhibit-on-failure: true, quorum: 2, hysteresis: 1,
                 check: {type: tcp, delay-loop: 2}, sorry-server: {address: 192.0.2.99},
                 real-servers: [{address: 192.0.2.11, weight: 3}]}
            \(Self.ha), sync-daemon: true, sync-id: 9, notification-email: [ops@example.com], smtp-server: mail.example.com,
                notification-email-from: lvs@example.com, notify-master: /usr/local/sbin/on-master, script-user: nobody}

            """)
        let again = try SpecInput.fromYAML(spec.yaml, source: "show").resolve(with: catalog).0
        #expect(again == spec, "\(spec.yaml)")
    }
}
