import ArgumentParser

@main
struct LVSNodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvs-node",
        abstract: "Makes a Linux host an LVS real server, keeps it so across reboots, and undoes it.",
        discussion: ExitStatus.help,
        subcommands: [Setup.self, PlanCommand.self, Status.self, Rollback.self, History.self, Start.self, Stop.self]
    )
}
