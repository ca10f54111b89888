/// How keepalived treats a virtual service's real servers (HA only): how a server enters the table,
/// what a failed check does to it, and what serves when too few are healthy.
public struct HealthPolicy: Equatable, Sendable {
    /// A real server (at keepalived's start, or new in a reloaded file) stays out of the table until its
    /// first check passes (keepalived `alpha`); otherwise it takes requests before anything checked it.
    public var alpha: Bool
    /// A failed check sets the server's weight to 0 (its established connections go on; new ones go
    /// elsewhere) instead of removing it, which would cut them (keepalived `inhibit_on_failure`).
    public var inhibitOnFailure: Bool
    /// The least total weight of healthy real servers the service needs (keepalived `quorum`, default 1).
    /// Below it keepalived takes the remaining servers out and the sorry server answers alone.
    public var quorum: Int
    /// Weight units of slack around the quorum, so a flapping server does not flip the service (keepalived
    /// `hysteresis`): lost below quorum - hysteresis, regained at quorum + hysteresis.
    public var hysteresis: Int
    public var sorryServer: SorryServer?

    public init(alpha: Bool = true, inhibitOnFailure: Bool = false, quorum: Int = 1, hysteresis: Int = 0,
                sorryServer: SorryServer? = nil) {
        self.alpha = alpha
        self.inhibitOnFailure = inhibitOnFailure
        self.quorum = quorum
        self.hysteresis = hysteresis
        self.sorryServer = sorryServer
    }
}

/// The server keepalived puts in the table, alone, while the service is below its quorum (a
/// maintenance page, another site).
public struct SorryServer: Equatable, Sendable {
    public var address: IPAddress
    /// 0 for a firewall-mark service: the port the packet was sent to.
    public var port: Int
    public var forwarding: Forwarding

    public init(address: IPAddress, port: Int, forwarding: Forwarding) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
    }
}
