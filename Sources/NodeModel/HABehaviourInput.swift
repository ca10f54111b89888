/// Reads the `ha:` section's keepalived behaviour: the IPVS sync daemon and who hears of a state
/// change (mail, notify scripts). Every free-text value is checked for the keepalived.conf syntax it
/// lands in (ValueSyntax), so none can end its line, open a block or start a comment.
extension DirectorInput {
    static let haBehaviourKeys = ["sync-daemon", "sync-id", "notification-email", "notification-email-from", "smtp-server",
                                  "smtp-connect-timeout", "notify-master", "notify-backup", "notify-fault", "script-user"]

    mutating func syncDaemon(_ field: (String) -> YAMLValue?, virtualRouterID: Int?) -> SyncDaemon? {
        let enabled = field("sync-daemon").flatMap { flag($0, "ha.sync-daemon") } ?? false
        let id = field("sync-id").flatMap { number($0, "ha.sync-id", 0...255) }
        if !enabled, let value = field("sync-id") {
            errors.append(SpecError(value.location, "ha.sync-id belongs to the sync daemon; add sync-daemon: true"))
        }
        guard enabled else { return nil }
        // keepalived's own default is the VRRP instance's virtual_router_id; it is written out so the
        // pair check can compare it.
        return SyncDaemon(id: id ?? virtualRouterID ?? 0)
    }

    mutating func notification(_ field: (String) -> YAMLValue?) -> HANotification {
        var result = HANotification()
        if let value = field("notification-email") {
            let entries: [YAMLValue] = attempt({ try value.list("ha.notification-email") }) ?? []
            if entries.isEmpty { errors.append(SpecError(value.location, "ha.notification-email lists no one; give at least one address")) }
            for (index, entry) in entries.enumerated() {
                if let address = checked(entry, "ha.notification-email[\(index)]", "a mail address", ValueSyntax.emailProblem) {
                    result.emails.append(address)
                }
            }
        }
        result.emailFrom = field("notification-email-from").flatMap {
            checked($0, "ha.notification-email-from", "a mail address", ValueSyntax.emailProblem)
        }
        if let value = field("smtp-server"), let text = text(value, "ha.smtp-server") {
            if let address = IPAddress(text) {
                result.smtpServer = address.description
            } else if let problem = ValueSyntax.hostNameProblem(text) {
                errors.append(SpecError(value.location, "ha.smtp-server '\(text)' is neither an IP address nor a host name: \(problem)"))
            } else {
                result.smtpServer = text
            }
        }
        if let value = field("smtp-connect-timeout"), let seconds = number(value, "ha.smtp-connect-timeout", 1...3600) {
            result.smtpConnectTimeout = seconds
        }
        // Mail goes out only with recipients and a server to hand it to; one without the other is a mistake.
        let mail = ["notification-email", "notification-email-from", "smtp-server", "smtp-connect-timeout"]
        if let given = mail.compactMap(field).first, field("notification-email") == nil || field("smtp-server") == nil {
            errors.append(SpecError(given.location, "mail needs both ha.notification-email: [ops@example.com] and ha.smtp-server: ADDRESS"))
        }
        result.notifyMaster = field("notify-master").flatMap { checked($0, "ha.notify-master", "a script path", ValueSyntax.scriptPathProblem) }
        result.notifyBackup = field("notify-backup").flatMap { checked($0, "ha.notify-backup", "a script path", ValueSyntax.scriptPathProblem) }
        result.notifyFault = field("notify-fault").flatMap { checked($0, "ha.notify-fault", "a script path", ValueSyntax.scriptPathProblem) }
        if let value = field("script-user") {
            if let user = checked(value, "ha.script-user", "a user name", ValueSyntax.userNameProblem) { result.scriptUser = user }
            if !result.hasScripts {
                errors.append(SpecError(value.location, "ha.script-user is the user the notify scripts run as; give notify-master, notify-backup or notify-fault"))
            }
        }
        return result
    }

    private mutating func checked(_ value: YAMLValue, _ name: String, _ what: String, _ problem: (String) -> String?) -> String? {
        guard let text = text(value, name) else { return nil }
        if let reason = problem(text) {
            errors.append(SpecError(value.location, "\(name) '\(text)' is not \(what) keepalived can take: \(reason)"))
            return nil
        }
        return text
    }
}
