import ArgumentParser
import BuildInfo
import Glibc
import HostAccess

struct LVSNodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvs-node",
        abstract: "Makes a Linux host an LVS director, real server or router, keeps it so across reboots, and undoes it.",
        discussion: ExitStatus.help,
        version: Release.description,
        subcommands: [Setup.self, PlanCommand.self, Status.self, Rollback.self, History.self, Start.self, Stop.self,
                      CloudInitCommand.self, Check.self, Show.self, Confirm.self, Version.self]
    )

    /// The subcommands by name, spelled out so finding one costs no reflection.
    static let byName: [String: ParsableCommand.Type] = [
        "setup": Setup.self, "plan": PlanCommand.self, "status": Status.self, "rollback": Rollback.self,
        "history": History.self, "start": Start.self, "stop": Stop.self, "cloud-init": CloudInitCommand.self,
        "check": Check.self, "show": Show.self, "confirm": Confirm.self, "version": Version.self,
    ]
}

/// Parses only the subcommand that was asked for: argument-parser reflects over every command it
/// is shown, and with all of them that alone took half of a no-op run. Help, completion and
/// anything unexpected go through the whole tree as usual.
@main
enum Entry {
    static func byName(_ name: String) -> ParsableCommand.Type? { LVSNodeCommand.byName[name] }

    static func main() {
        // A reader of our output that goes away (`lvs-node status | head -1`) must not kill a run
        // half-way, before it can undo itself: a write to it fails instead.
        ProcessRunner.ignoreBrokenPipes()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] {
            // Without a look at the command tree.
            print(Release.description)
            exit(ExitStatus.success)
        }
        if arguments.first == "help", arguments.count > 1, byName(arguments[1]) == nil {
            // argument-parser would print the main help and exit 0 for a command that does not exist.
            ExitStatus.printError("error: no such command '\(arguments[1])'; the commands are: \(LVSNodeCommand.byName.keys.sorted().joined(separator: ", "))")
            exit(ExitStatus.usage)
        }
        guard let name = arguments.first,
              let command = LVSNodeCommand.byName[name],
              !arguments.contains(where: { ["-h", "--help", "help", "--generate-completion-script"].contains($0) }) else {
            LVSNodeCommand.main()
            return
        }
        var parsed: ParsableCommand
        do {
            let rest = Array(arguments.dropFirst())
            parsed = try DirectArguments.parse(name, rest) ?? command.parseAsRoot(RepeatedOptions.extract(rest))
        } catch {
            if arguments.contains("--json") {
                // A usage error is a document too: a playbook parses stdout whatever happened.
                let status = command.exitCode(for: error).rawValue
                JSONOutput.emit(JSONOutput.error(name, status: status, error: nil,
                                                 message: command.message(for: error)))
                exit(status)
            }
            // Let the whole tree say it, so usage lines read "lvs-node setup", not "setup".
            LVSNodeCommand.main()
            return
        }
        do {
            try parsed.run()
        } catch {
            command.exit(withError: error)
        }
    }
}
