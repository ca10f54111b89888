import Engine
import HostAccess
import NodeModel
import Render

/// Where a run reads and writes: the root for files, the state directory, and the live-state controls.
/// The command line builds the real one; tests hand in fakes.
public struct NodeEnvironment {
    public let root: HostRoot
    public let stateDirectory: String
    public let addresses: () throws -> AddressControl
    public let links: () throws -> LinkControl
    public let routes: () throws -> RouteControl
    public let packetFilter: () -> PacketFilter
    public let sysctls: () throws -> SysctlControl
    public let ipvs: () throws -> IPVSControl
    public let mayChangeNetwork: () -> Bool
    /// Said while a run waits (a real server draining); the command line prints it.
    public var progress: (String) -> Void = { _ in }
    /// Starts what undoes a change awaiting confirmation at its deadline (`ConfirmTimer.arm` on a
    /// real host); throwing means nothing is applied.
    public var armConfirmation: (Confirmation) throws -> Void = { _ in
        throw MissingKernelFeature(feature: "a confirmation timer", needed: "--confirm-within")
    }
    /// The running kernel's release and its loaded modules' parameters (tests hand in others).
    public var kernelRelease: () -> String = { KernelInfo.release() }
    public var moduleParameter: (_ module: String, _ parameter: String) -> String? = { KernelInfo.moduleParameter($0, $1) }

    public init(root: HostRoot, stateDirectory: String? = nil,
                addresses: @escaping () throws -> AddressControl,
                links: @escaping () throws -> LinkControl,
                routes: @escaping () throws -> RouteControl,
                packetFilter: @escaping () -> PacketFilter,
                sysctls: @escaping () throws -> SysctlControl,
                ipvs: @escaping () throws -> IPVSControl = { throw MissingKernelFeature(feature: "IPVS", needed: "the director's IPVS table") },
                mayChangeNetwork: @escaping () -> Bool) {
        self.root = root
        self.stateDirectory = stateDirectory ?? root.path("/var/lib/lvs-node")
        self.addresses = addresses
        self.links = links
        self.routes = routes
        self.packetFilter = packetFilter
        self.sysctls = sysctls
        self.ipvs = ipvs
        self.mayChangeNetwork = mayChangeNetwork
    }

    /// The host itself: rtnetlink, generic netlink (IPVS), /proc/sys, and the process's capabilities.
    public static func host(root: String, stateDirectory: String?) -> NodeEnvironment {
        var environment = NodeEnvironment(root: HostRoot(root), stateDirectory: stateDirectory,
                        addresses: { try NetlinkAddresses() },
                        links: { try NetlinkLinks() },
                        routes: { try NetlinkRoutes() },
                        packetFilter: { Nftables() },
                        sysctls: { ProcSys() },
                        ipvs: { try NetlinkIPVS() },
                        mayChangeNetwork: { Privileges.hasNetAdmin() })
        let stateDirectory = environment.stateDirectory
        environment.armConfirmation = { try ConfirmTimer.arm($0, root: root, stateDirectory: stateDirectory) }
        return environment
    }

    public var roleCatalog: RoleCatalog {
        RoleCatalog(overrideDirectory: root.path("/etc/lvs-node/roles")) { path in
            try Self.readInput(path, followSymlink: false).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    public var templateRenderer: TemplateRenderer {
        TemplateRenderer(overrideDirectory: root.path("/etc/lvs-node/templates")) { path in
            try Self.readInput(path, followSymlink: false).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Reads the `--config` file (a path on this machine, not under the root, so a symlink there is
    /// followed): a regular file of at most `BoundedRead.inputLimit` bytes.
    public func readSpecFile(_ path: String) throws -> SpecInput {
        if path == "-" {
            do {
                return try SpecInput.fromYAML(bytes: try BoundedRead.standardInput(), source: "standard input")
            } catch let refusal as BoundedRead.Refusal {
                throw SpecError(refusal.path, refusal.reason)
            }
        }
        guard let bytes = try Self.readInput(path, followSymlink: true) else {
            throw SpecError(path, "the spec file does not exist")
        }
        return try SpecInput.fromYAML(bytes: bytes, source: path)
    }

    /// Reads a user-data file as the cloud-init hook does: `--user-data FILE` (an operator's path,
    /// `followSymlink: true`) or the instance's file under the root (`false`); nil when absent.
    public static func readUserData(_ path: String, followSymlink: Bool) throws -> [UInt8]? {
        try readInput(path, followSymlink: followSymlink)
    }

    /// An input file's bytes, bounded and regular files only; a refusal is a data error (65) that says why.
    static func readInput(_ path: String, followSymlink: Bool) throws -> [UInt8]? {
        do {
            return try BoundedRead.regularFile(path, followSymlink: followSymlink)
        } catch let refusal as BoundedRead.Refusal {
            throw SpecError(refusal.path, refusal.reason)
        }
    }
}
