import ArgumentParser
import LVSNode

/// `lvs-node show`: the spec in force as YAML `setup --config -` takes back, and nothing else on
/// standard output, so `lvs-node show | lvs-node setup --config -` reproduces the generation.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the spec in force (or of generation N) as YAML that setup --config accepts.",
        discussion: """
            The VRRP password is printed only to root; another user sees password: "********" and a note on \
            standard error. Exits 0, printing nothing on standard output, when no generation is in force; 65 \
            when --generation names none.
            """)

    @OptionGroup var location: LocationOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .customLong("generation"), help: "Show generation N (applied or rolled back) instead of the one in force.")
    var generation: Int?

    func run() throws {
        try ExitStatus.guarding("show", output) {
            let shown = try location.agent.show(generation: generation)
            if !output.json {
                if let spec = shown?.spec { print(spec, terminator: "") }
                if shown == nil {
                    ExitStatus.printError("nothing applied: lvs-node has no generation in force")
                } else if shown?.spec == nil {
                    ExitStatus.printError("note: generation \(shown!.generation) holds a VRRP password and was written before lvs-node kept a masked copy; run show as root to print it")
                } else if shown?.secretsMasked == true {
                    ExitStatus.printError("note: the VRRP password is shown as \"********\": printing it needs root")
                }
            }
            output.document("show", status: ExitStatus.success, [
                ("generation", .optional(shown?.generation)),
                ("spec", .optional(shown?.spec)),
                ("secrets_masked", .bool(shown?.secretsMasked ?? false)),
            ])
            return ExitStatus.success
        }
    }
}
