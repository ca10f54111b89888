import ArgumentParser
import Engine
import HostAccess
import LVSNode

/// The cloud-init hook: the node takes the spec under `lvs_node:` in the instance's user-data.
struct CloudInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud-init",
        abstract: "Apply the lvs_node: spec of the cloud-init user-data (first boot and every boot).",
        discussion: """
            Reads the user-data with `cloud-init query userdata` where cloud-init is installed, else from \
            /var/lib/cloud/instance/user-data.txt under --root, or from --user-data FILE; multi-part MIME \
            user-data is searched for its text/cloud-config parts. Without an lvs_node: key it does nothing. \
            Output also goes to /var/log/lvs-node.log. A failure leaves the host as it was and exits non-zero, \
            so cloud-init reports the module as failed.
            """)

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("user-data"), help: ArgumentHelp("Read the user-data from this file.", valueName: "file"))
    var userData: String?

    @Flag(name: .customLong("install-hook"),
          help: "Also keep /var/lib/cloud/scripts/per-boot/lvs-node, so every boot applies the spec again (rollback removes it).")
    var installHook = false

    func run() throws {
        let log = CloudInitLog(root: location.environment.root, output: output)
        try ExitStatus.guarding("cloud-init", output) {
            let agent = location.agent
            let source: NodeAgent.UserDataSource = userData.map { .file($0) } ?? .instance
            let report: RunReport?
            do {
                report = try agent.cloudInit(from: source, installHook: installHook)
            } catch {
                log.write(ExitStatus.classify(error).1)
                throw error
            }
            guard let report else {
                log.say("no lvs_node key in the user-data: nothing to do", summary: true)
                output.document("cloud-init", status: ExitStatus.success, [("spec_found", .bool(false))] + Output.runMembers(
                    RunReport(changes: [], generation: nil, recovery: .nothingToDo)))
                return ExitStatus.success
            }
            Output.recovery(report.recovery, output)
            report.lines.forEach { log.say($0) }
            if let generation = report.generation {
                log.say("applied generation \(generation): \(Output.count(report.changes.count, "change"))", summary: true)
            } else {
                log.say("no changes needed: the host already matches the spec", summary: true)
            }
            SystemLog.run("cloud-init", generation: report.generation, changes: report.changes.count, status: ExitStatus.success)
            output.document("cloud-init", status: ExitStatus.success, [("spec_found", .bool(true))] + Output.runMembers(report))
            return ExitStatus.success
        }
    }
}

/// Prints a line and appends it, time-stamped, to /var/log/lvs-node.log (best effort: a missing log
/// must not fail a boot).
struct CloudInitLog {
    let root: HostRoot
    let output: OutputOptions

    /// The log gets every line; standard output what --quiet and --json let through.
    func say(_ line: String, summary: Bool = false) {
        if summary { output.summary(line) } else { output.detail(line) }
        write(line)
    }

    func write(_ text: String) {
        let stamp = Clock.now()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { "\(stamp) \($0)\n" }.joined()
        try? root.append("/var/log/lvs-node.log", Array(lines.utf8), sync: false)
    }
}
