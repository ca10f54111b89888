import ArgumentParser

@main
struct LVSNodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvs-node",
        abstract: "Makes a Linux host an LVS real server (and later director or router), keeps it so, and undoes it.",
        discussion: ExitStatus.help,
        subcommands: [Setup.self, PlanCommand.self, Status.self, Rollback.self, History.self]
    )
}
