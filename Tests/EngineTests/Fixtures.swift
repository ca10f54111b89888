import Engine
import HostAccess
import LVSNode
import NodeModel
import TestSupport

/// A node agent over a fake kernel, with its root and state directory in a temporary folder.
final class FakeNode {
    let kernel: FakeKernel
    let ipvs = FakeIPVS()
    let directory = TemporaryDirectory()
    var mayChangeNetwork = true
    /// What uname says, and the loaded modules' parameters by "module/parameter".
    var kernelRelease = "6.1.0-26-amd64"
    var moduleParameters: [String: String] = [:]

    init(interfaces: Set<String> = ["lo", "eth0"]) { kernel = FakeKernel(interfaces: interfaces) }

    var environment: NodeEnvironment {
        var environment = NodeEnvironment(root: HostRoot(directory.path), stateDirectory: nil,
                        addresses: { [kernel] in kernel }, links: { [kernel] in kernel }, routes: { [kernel] in kernel }, packetFilter: { [kernel] in kernel },
                        sysctls: { [kernel] in kernel }, ipvs: { [ipvs, kernel] in kernel.loadIPVS(); return ipvs.session() },
                        mayChangeNetwork: { [unowned self] in self.mayChangeNetwork })
        environment.kernelRelease = { [kernelRelease] in kernelRelease }
        environment.moduleParameter = { [moduleParameters] in moduleParameters["\($0)/\($1)"] }
        return environment
    }

    /// Waits for the lock: tests run in parallel threads, and a process another test spawns holds a copy
    /// of every descriptor (the lock's included) until it execs, so a free lock can look held for an instant.
    var agent: NodeAgent { NodeAgent(environment, lockWait: 10) }
    var stateDirectory: String { environment.stateDirectory }

    deinit { directory.remove() }

    static func realserver(_ vips: String...) -> SpecInput {
        try! SpecInput.fromFlags(role: "realserver", mode: nil, vips: vips)
    }
}
