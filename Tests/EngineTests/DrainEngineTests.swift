import Engine
import Foundation
import HostAccess
import LVSNode
import NodeModel
import Render
import Steps
import Testing
import TestSupport

/// `drain:` as a state machine: a real server leaving the spec goes to weight 0 in a generation of
/// its own (with its deadline), and a later run of the same setup removes it once its active and
/// inactive connections are gone or the deadline has passed. A run that fails (or is killed) while
/// the server drains leaves it draining, and the next run resumes with the same deadline.
@Suite struct DrainEngineTests {
    static let web = DirectorEngineTests.web
    static let webKey = DirectorEngineTests.webKey
    static let leaving = "192.0.2.12:80"

    static func spec(drain: Int, without server: String = "192.0.2.12", adding: String? = nil) throws -> SpecInput {
        let line = "      - {address: \(server)}\n"
        let body = web.replacingOccurrences(of: line, with: adding.map { "      - {address: \($0)}\n" } ?? "")
        return try DirectorEngineTests.director(body + "drain: \(drain)\n")
    }

    func server(_ node: FakeNode, _ endpoint: String = leaving) -> IPVSDestination? { node.ipvs.servers[Self.webKey]?[endpoint] }

    func setConnections(_ node: FakeNode, active: UInt32, inactive: UInt32, _ endpoint: String = leaving) {
        node.ipvs.servers[Self.webKey]?[endpoint]?.activeConnections = active
        node.ipvs.servers[Self.webKey]?[endpoint]?.inactiveConnections = inactive
    }

    /// The kernel's counters change after this many looks at the table, as traffic would change them.
    func afterDumps(_ node: FakeNode, _ count: Int, _ change: @escaping () -> Void) {
        var dumps = 0
        node.ipvs.beforeDump = {
            dumps += 1
            if dumps == count { change() }
        }
    }

    func generations(_ node: FakeNode) throws -> [Generation] { try node.agent.history().sorted { $0.number < $1.number } }

    /// The drain step asks for the generation's baseline (a director's whole table, decoded on first
    /// use) only when a real server leaves the spec: a run that keeps the table never decodes it.
    @Test func theDrainStepAsksForTheBaselineOnlyWhenARealServerLeaves() throws {
        let node = FakeNode()
        let catalog = RoleCatalog(overrideDirectory: node.directory.file("none")) { _ in nil }
        let view = HostView(addresses: node.kernel, links: node.kernel, routes: node.kernel, packetFilter: node.kernel,
                            ipvs: IPVSHandle { [kernel = node.kernel, ipvs = node.ipvs] in kernel.loadIPVS(); return ipvs.session() })
        let renderer = TemplateRenderer(overrideDirectory: node.directory.file("none")) { _ in nil }
        let context = RenderContext(binary: "/usr/local/sbin/lvs-node", root: node.directory.path, stateDirectory: "/var/lib/lvs-node")
        let (whole, role) = try Self.spec(drain: 30, without: "192.0.2.99").resolve(with: catalog)
        let previous = try StepBuilder(spec: whole, previous: [], host: view, renderer: renderer, context: context).desiredSteps(for: role)
        var asked = 0
        func steps(_ spec: NodeSpec) throws -> [DesiredStep] {
            var builder = StepBuilder(spec: spec, previous: previous, host: view, renderer: renderer, context: context)
            builder.baseline = { asked += 1; return [:] }
            return try builder.desiredSteps(for: role)
        }
        _ = try steps(whole)
        #expect(asked == 0)
        _ = try steps(try Self.spec(drain: 30).resolve(with: catalog).0)
        #expect(asked == 1)
    }

    @Test func aLeavingServerWaitsAtWeightZeroForItsInactiveConnectionsTooThenGoes() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try DirectorEngineTests.director(Self.web))
        setConnections(node, active: 0, inactive: 2)   // UDP flows and closing TCP ones count as inactive
        let start = node.ipvs.requests.count
        var weightWhileWaiting: Int32?
        var statusWhileWaiting: [String] = []
        var dumps = 0
        var looking = false
        node.ipvs.beforeDump = {
            dumps += 1
            // status may look while setup waits (it holds the lock only while it changes something).
            if statusWhileWaiting.isEmpty && !looking {
                looking = true
                if let status = try? NodeAgent(node.environment, lockWait: 0).status() { statusWhileWaiting = status.ipvsTable }
                looking = false
            }
            if dumps == 12 {
                weightWhileWaiting = self.server(node)?.weight
                self.setConnections(node, active: 0, inactive: 0)
            }
        }
        let report = try node.agent.setup(try Self.spec(drain: 60))
        #expect(weightWhileWaiting == 0)
        #expect(statusWhileWaiting.contains { $0.contains("192.0.2.12:80") && $0.contains("[draining until ") }, "\(statusWhileWaiting)")
        #expect(server(node) == nil)
        #expect(report.lines == ["~ IPVS real server 192.0.2.12:80 of tcp 192.0.2.10:80: dr weight 1 → dr weight 0",
                                 "- IPVS real server 192.0.2.12:80 of tcp 192.0.2.10:80 (dr weight 0)"], "\(report.lines)")
        let requests = Array(node.ipvs.requests[start...])
        #expect(requests.count == 2, "\(requests)")
        // Two generations: the drain (with its deadline in its step's name), then the removal.
        let made = try generations(node).suffix(2)
        #expect(made.first?.steps.contains { $0.name.hasPrefix("drain until ") && $0.desired.map(\.subject) == ["server tcp 192.0.2.10:80 192.0.2.12:80"] } == true)
        #expect(made.last?.steps.contains { $0.name.hasPrefix("drain until ") } == false)
    }

    @Test func aServerWithoutConnectionsGoesAtOnce() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try DirectorEngineTests.director(Self.web))
        let start = node.ipvs.requests.count
        let report = try node.agent.setup(try Self.spec(drain: 60))
        #expect(report.lines == ["- IPVS real server 192.0.2.12:80 of tcp 192.0.2.10:80 (dr weight 1)"])
        #expect(node.ipvs.requests.count == start + 1)
    }

    @Test func theDeadlineEndsADrainWhoseConnectionsStay() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try DirectorEngineTests.director(Self.web))
        setConnections(node, active: 5, inactive: 1)
        var started = timespec(), ended = timespec()
        clock_gettime(CLOCK_MONOTONIC, &started)
        _ = try node.agent.setup(try Self.spec(drain: 2))
        clock_gettime(CLOCK_MONOTONIC, &ended)
        #expect(server(node) == nil)
        #expect(ended.tv_sec - started.tv_sec >= 1 && ended.tv_sec - started.tv_sec < 10)
    }

    /// Its successor is in the table before the leaving server goes to weight 0, so the service never
    /// stands without a real server for new connections.
    @Test func aReplacedServerDrainsWhileItsSuccessorAlreadyServes() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try DirectorEngineTests.director(Self.web))
        setConnections(node, active: 1, inactive: 0)
        let start = node.ipvs.requests.count
        afterDumps(node, 5) { self.setConnections(node, active: 0, inactive: 0) }
        _ = try node.agent.setup(try Self.spec(drain: 60, adding: "192.0.2.13"))
        let requests = Array(node.ipvs.requests[start...])
        let added = requests.firstIndex { if case .addDestination(let d) = $0 { return d.address == "192.0.2.13" }; return false }
        let zeroed = requests.firstIndex { if case .editDestination(let d) = $0 { return d.address == "192.0.2.12" && d.weight == 0 }; return false }
        let removed = requests.firstIndex { if case .deleteDestination(let d) = $0 { return d.address == "192.0.2.12" }; return false }
        guard let added, let zeroed, let removed else { Issue.record("expected add, weight 0, removal: \(requests)"); return }
        #expect(added < zeroed && zeroed < removed, "\(requests)")
        #expect(node.ipvs.servers[Self.webKey]?.keys.sorted() == ["192.0.2.11:80", "192.0.2.13:80"])
    }

    /// The run after the drain fails (as a killed one would stop): the server stays at weight 0, the
    /// drain generation in force, `status` shows it draining; the next setup resumes the drain with
    /// the same deadline and removes the server once its connections end.
    @Test func anInterruptedDrainIsResumedWithItsDeadlineByTheNextRun() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try DirectorEngineTests.director(Self.web))
        setConnections(node, active: 1, inactive: 1)
        afterDumps(node, 4) { self.setConnections(node, active: 0, inactive: 0) }
        node.ipvs.failing = { operation in
            if case .deleteDestination = operation { return ENOMEM }
            return nil
        }
        #expect(throws: RunFailure.self) { try node.agent.setup(try Self.spec(drain: 600)) }
        #expect(server(node)?.weight == 0, "the failed removal left the server draining, not back at weight 1")
        let drainStep = try #require(try generations(node).last?.steps.first { $0.name.hasPrefix("drain until ") })

        // New connections arrive (a persistent client, say); status says the server drains.
        node.ipvs.failing = { _ in nil }
        node.ipvs.beforeDump = nil
        setConnections(node, active: 2, inactive: 0)
        let status = try node.agent.status()
        let line = try #require(status.ipvsTable.first { $0.contains("192.0.2.12:80") })
        #expect(line.contains("[draining until \(drainStep.name.dropFirst("drain until ".count))"), "\(line)")
        #expect(status.driftChanges.isEmpty, "\(status.drift)")

        // The next run keeps the deadline (every generation's drain is the first one's), then removes the server.
        let before = try generations(node).count
        afterDumps(node, 4) { self.setConnections(node, active: 0, inactive: 0) }
        _ = try node.agent.setup(try Self.spec(drain: 600))
        let all = try generations(node)
        #expect(all.count == before + 1, "one generation: the removal")
        #expect(Set(all.flatMap { $0.steps.map(\.name) }.filter { $0.hasPrefix("drain until ") }) == [drainStep.name])
        #expect(server(node) == nil)
        #expect(try node.agent.status().driftChanges.isEmpty)
    }

    /// Rolling back the removal brings the server back draining; rolling back the drain, at its weight.
    @Test func rollbackWalksBackThroughTheDrain() throws {
        let node = FakeNode()
        _ = try node.agent.setup(try DirectorEngineTests.director(Self.web))
        setConnections(node, active: 1, inactive: 0)
        afterDumps(node, 4) { self.setConnections(node, active: 0, inactive: 0) }
        _ = try node.agent.setup(try Self.spec(drain: 60))
        node.ipvs.beforeDump = nil
        _ = try node.agent.rollback()
        #expect(server(node)?.weight == 0)
        _ = try node.agent.rollback()
        #expect(server(node)?.weight == 1)
    }

    @Test func aDeadlineSurvivesItsTextForm() {
        let deadline = DrainDeadline(epoch: 1_795_000_000)
        #expect(deadline.text == "2026-11-18T11:06:40Z")
        let step = DesiredStep(name: "drain until " + deadline.text, kind: "ipvs", desired: [Desired(subject: "server tcp 192.0.2.10:80 192.0.2.12:80", state: "dr weight 0")])
        #expect(IPVSDrainStep.draining([step]) == ["server tcp 192.0.2.10:80 192.0.2.12:80": deadline])
        let damaged = DesiredStep(name: "drain until 2026-11-18T11:06:4Z", kind: "ipvs", desired: step.desired)
        #expect(IPVSDrainStep.draining([damaged]).isEmpty)
    }
}
