import ArgumentParser
import Glibc
import LVSNode
import NodeModel

/// Where files and state live; every command takes these.
struct LocationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Take every file path relative to this directory.", valueName: "dir"),
            completion: .directory)
    var root: String = "/"

    @Option(name: .customLong("state-dir"),
            help: ArgumentHelp("Journal and generations (default: /var/lib/lvs-node under --root).", valueName: "dir"),
            completion: .directory)
    var stateDirectory: String?

    @Option(help: ArgumentHelp("Wait up to this long for another lvs-node run to finish (0: exit 75 at once).", valueName: "seconds"))
    var wait: Int = 0

    /// The operations, on the host (or under --root) this invocation names.
    var agent: NodeAgent { NodeAgent(environment, lockWait: wait) }

    /// An empty path would put every file (and the journal) at the real root's top level. (A state
    /// directory that cannot be used is 73, found when it is created.)
    func validate() throws {
        if root.isEmpty { throw ValidationError("--root must name a directory; it is empty") }
        if stateDirectory?.isEmpty == true { throw ValidationError("--state-dir must name a directory; it is empty") }
        var info = stat()
        guard stat(root, &info) == 0 else {
            // A mistyped --root would otherwise get a tree of its own while the live state changes.
            throw ValidationError("--root '\(root)' does not exist; lvs-node does not create it: make the directory first")
        }
        if info.st_mode & S_IFMT != S_IFDIR {
            throw ValidationError("--root '\(root)' is not a directory")
        }
        if wait < 0 || wait > 86_400 { throw ValidationError("--wait takes 0 to 86400 seconds, not \(wait)") }
    }

    var environment: NodeEnvironment {
        var environment = NodeEnvironment.host(root: root, stateDirectory: stateDirectory)
        environment.progress = { ExitStatus.printError($0) }
        return environment
    }
}

/// The node spec, as flags or as a YAML file. The values of --role, --mode, --persist and --init complete
/// in the shell (the shipped roles; the forwarding modes, which are the roles' modes but the router's `default`).
struct SpecOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The role this host takes: \(RoleCatalog.shippedNames.joined(separator: ", ")).", valueName: "role"),
            completion: .list(RoleCatalog.shippedNames))
    var role: String?

    @Option(help: ArgumentHelp("The role's mode (realserver, director: dr, the default, tun or nat).", valueName: "mode"),
            completion: .list(Forwarding.allCases.map(\.rawValue)))
    var mode: String?

    @Option(name: .customLong("vip"), help: ArgumentHelp("A virtual IP; repeat for several (realserver dr, tun).", valueName: "address"))
    var vips: [String] = []

    @Option(help: ArgumentHelp("The interface the VIPs go on (director), e.g. eth0, or lo for a VIP routed to it.", valueName: "device"))
    var interface: String?

    @Option(help: ArgumentHelp("The director's address the default route goes through (realserver nat).", valueName: "dip"))
    var gateway: String?

    @Option(help: ArgumentHelp("Clamp the TCP MSS the real server advertises for its VIPs (realserver tun), e.g. 1400.", valueName: "bytes"))
    var mss: String?

    @Option(name: .customLong("address"), help: ArgumentHelp("A labelled secondary address, DEVICE=ADDRESS/PREFIX (router); repeat for several.", valueName: "device=cidr"))
    var addresses: [String] = []

    @Option(name: .customLong("route"), help: ArgumentHelp("A static route, 'NETWORK via GATEWAY' (router); repeat for several.", valueName: "route"))
    var routes: [String] = []

    @Flag(name: .customLong("ipv6-forwarding"), help: "Forward IPv6 too (router).")
    var ipv6Forwarding = false

    @Option(help: ArgumentHelp("How the state survives a reboot: auto, netplan, ifcfg or none (auto: from /etc/netplan, /etc/sysconfig/network-scripts, /etc/os-release).", valueName: "backend"),
            completion: .list(PersistBackend.allCases.map(\.rawValue)))
    var persist: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("What brings the live state up at boot: auto, systemd, sysv or none.", valueName: "system"),
            completion: .list(InitSystem.allCases.map(\.rawValue)))
    var initSystem: String?

    @Option(help: ArgumentHelp("Read the node spec from this YAML file (- for standard input) instead of the flags above.", valueName: "file"),
            completion: .file())
    var config: String?

    // Those given many times come through `RepeatedOptions` instead.
    var allVIPs: [String] { vips + (RepeatedOptions.taken["--vip"] ?? []) }
    var allAddresses: [String] { addresses + (RepeatedOptions.taken["--address"] ?? []) }
    var allRoutes: [String] { routes + (RepeatedOptions.taken["--route"] ?? []) }

    func validate() throws {
        let flagsGiven = role != nil || mode != nil || !allVIPs.isEmpty || persist != nil || initSystem != nil || gateway != nil
            || mss != nil || !allAddresses.isEmpty || !allRoutes.isEmpty || ipv6Forwarding || interface != nil
        if config != nil && flagsGiven {
            throw ValidationError("give the spec either as --config FILE or as flags (--role, --vip, …), not both")
        }
        if config == nil && role == nil {
            throw ValidationError("say which role this host takes with --role (\(RoleCatalog.shippedNames.joined(separator: ", "))) or give --config FILE")
        }
    }

    func input(_ environment: NodeEnvironment) throws -> SpecInput {
        if let config { return try environment.readSpecFile(config) }
        return try SpecInput.fromFlags(role: role, mode: mode, vips: allVIPs, persist: persist, initSystem: initSystem,
                                       gateway: gateway, mss: mss, addresses: allAddresses, routes: allRoutes,
                                       ipv6Forwarding: ipv6Forwarding, interface: interface)
    }
}
