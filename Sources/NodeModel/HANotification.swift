/// Who hears of a VRRP state change: mail through an SMTP server (keepalived's `global_defs`
/// notification settings) and scripts run on becoming MASTER, BACKUP or FAULT.
public struct HANotification: Equatable, Sendable {
    /// Mail recipients; empty: no mail.
    public var emails: [String]
    /// The mails' From: address; nil: keepalived's `keepalived@<host name>`.
    public var emailFrom: String?
    /// The SMTP server's address or host name (port 25).
    public var smtpServer: String?
    public var smtpConnectTimeout: Int
    /// Absolute paths of the programs keepalived runs on each transition; nil: none.
    public var notifyMaster: String?
    public var notifyBackup: String?
    public var notifyFault: String?
    /// The user the scripts run as (keepalived `script_user`, with `enable_script_security`).
    public var scriptUser: String

    public init(emails: [String] = [], emailFrom: String? = nil, smtpServer: String? = nil, smtpConnectTimeout: Int = 30,
                notifyMaster: String? = nil, notifyBackup: String? = nil, notifyFault: String? = nil, scriptUser: String = "root") {
        self.emails = emails
        self.emailFrom = emailFrom
        self.smtpServer = smtpServer
        self.smtpConnectTimeout = smtpConnectTimeout
        self.notifyMaster = notifyMaster
        self.notifyBackup = notifyBackup
        self.notifyFault = notifyFault
        self.scriptUser = scriptUser
    }

    public var hasScripts: Bool { notifyMaster != nil || notifyBackup != nil || notifyFault != nil }
}

/// The IPVS connection synchronisation daemon keepalived runs on the VRRP interface: the master sends
/// its connection table, the backup keeps it, so established connections survive a failover.
public struct SyncDaemon: Equatable, Sendable {
    /// The sync id (0-255) both directors must share; it tells this pair's messages from another's.
    public var id: Int

    public init(id: Int) {
        self.id = id
    }
}
