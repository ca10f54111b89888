import ArgumentParser

/// Reads the plain command lines of `setup`, `plan`, `rollback` and `status` — the ones automation
/// runs on every boot and every push — without argument-parser. argument-parser reflects over the
/// command's options and resolves each wrapper type at run time (protocol-conformance scans of the
/// whole static binary): 12.6M of the 20.7M instructions of a one-VIP no-op `setup`, and the pages
/// of code it touches are a fifth of the peak memory.
///
/// Only exact long options from the command's own table (`--name value`, `--name=value`), its flags,
/// and `-q` are read here, each single-value option at most once, no value that starts with `-`.
/// Anything else — an unknown or misspelt option, `--`, a missing or odd value, a value that fails
/// the options' `validate()` — returns nil, and argument-parser reads the whole line as before, with
/// its own errors and help. So the two readers never disagree on a line this one accepts
/// (`DirectArgumentsTests` compares them option by option).
enum DirectArguments {
    static func parse(_ command: String, _ arguments: [String]) -> ParsableCommand? {
        do {
            switch command {
            case "setup":
                let line = try Line(arguments, options: LocationOptions.names + SpecOptions.names + ConfirmWithinOption.names,
                                    flags: OutputOptions.flags + SpecOptions.flags + ["--dry-run", "--force"])
                var setup = Setup()
                setup.location = try LocationOptions(line)
                setup.spec = try SpecOptions(line)
                setup.output = try OutputOptions(line)
                setup.dryRun = line.flag("--dry-run")
                setup.force = line.flag("--force")
                setup.confirmation = try ConfirmWithinOption(line)
                try setup.validate()
                return setup
            case "plan":
                let line = try Line(arguments, options: LocationOptions.names + SpecOptions.names,
                                    flags: OutputOptions.flags + SpecOptions.flags)
                var plan = PlanCommand()
                plan.location = try LocationOptions(line)
                plan.spec = try SpecOptions(line)
                plan.output = try OutputOptions(line)
                try plan.validate()
                return plan
            case "rollback":
                let line = try Line(arguments, options: LocationOptions.names + ConfirmWithinOption.names + ["--to", "--if-unconfirmed"],
                                    flags: OutputOptions.flags + ["--all", "--dry-run"])
                var rollback = Rollback()
                rollback.location = try LocationOptions(line)
                rollback.output = try OutputOptions(line)
                rollback.generation = try line.integer("--to")
                rollback.all = line.flag("--all")
                rollback.dryRun = line.flag("--dry-run")
                rollback.confirmation = try ConfirmWithinOption(line)
                rollback.ifUnconfirmed = line.value("--if-unconfirmed")
                try rollback.validate()
                return rollback
            case "status":
                let line = try Line(arguments, options: LocationOptions.names, flags: OutputOptions.flags)
                var status = Status()
                status.location = try LocationOptions(line)
                status.output = try OutputOptions(line)
                try status.validate()
                return status
            default:
                return nil
            }
        } catch {
            return nil
        }
    }

    /// Not a line this reader takes: argument-parser reads it.
    struct NotPlain: Error {}

    /// The options and flags of one command line, checked against the command's names.
    struct Line {
        private var values: [String: [String]] = [:]
        private var given: Set<String> = []

        init(_ arguments: [String], options: [String], flags: [String]) throws {
            var index = arguments.startIndex
            while index < arguments.endIndex {
                let argument = arguments[index]
                index += 1
                if flags.contains(argument) {
                    guard given.insert(argument).inserted else { throw NotPlain() }
                    continue
                }
                let name: String, value: String
                if let equals = argument.utf8.firstIndex(of: UInt8(ascii: "=")) {
                    name = String(Substring(argument.utf8[..<equals]))
                    value = String(Substring(argument.utf8[argument.utf8.index(after: equals)...]))
                } else {
                    guard index < arguments.endIndex else { throw NotPlain() }
                    name = argument
                    value = arguments[index]
                    index += 1
                }
                guard options.contains(name), !value.isEmpty, !value.utf8.starts(with: "-".utf8) else { throw NotPlain() }
                // A list option may repeat; a single value may not (argument-parser has its own rule for that).
                guard SpecOptions.lists.contains(name) || values[name] == nil else { throw NotPlain() }
                values[name, default: []].append(value)
            }
        }

        func flag(_ name: String) -> Bool { given.contains(name) }
        func value(_ name: String) -> String? { values[name]?.first }
        func list(_ name: String) -> [String] { values[name] ?? [] }

        func integer(_ name: String) throws -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text) else { throw NotPlain() }
            return number
        }
    }
}

// Every property of each group is set here, or reading it would stop the program: a property added to
// a group must be added to its reader too (`DirectArgumentsTests` finds one that is not).

extension LocationOptions {
    static let names = ["--root", "--state-dir", "--wait"]

    init(_ line: DirectArguments.Line) throws {
        self.init()
        root = line.value("--root") ?? "/"
        stateDirectory = line.value("--state-dir")
        wait = try line.integer("--wait") ?? 0
        try validate()
    }
}

extension SpecOptions {
    static let names = ["--role", "--mode", "--vip", "--interface", "--gateway", "--mss", "--address", "--route",
                        "--persist", "--init", "--config"]
    static let lists: Set<String> = ["--vip", "--address", "--route"]
    static let flags = ["--ipv6-forwarding"]

    init(_ line: DirectArguments.Line) throws {
        self.init()
        role = line.value("--role")
        mode = line.value("--mode")
        vips = line.list("--vip")
        interface = line.value("--interface")
        gateway = line.value("--gateway")
        mss = line.value("--mss")
        addresses = line.list("--address")
        routes = line.list("--route")
        ipv6Forwarding = line.flag("--ipv6-forwarding")
        persist = line.value("--persist")
        initSystem = line.value("--init")
        config = line.value("--config")
        try validate()
    }
}

extension OutputOptions {
    static let flags = ["--json", "--quiet", "-q"]

    init(_ line: DirectArguments.Line) throws {
        self.init()
        json = line.flag("--json")
        // -q and --quiet together would be the flag twice to argument-parser.
        guard !(line.flag("-q") && line.flag("--quiet")) else { throw DirectArguments.NotPlain() }
        quiet = line.flag("--quiet") || line.flag("-q")
    }
}

extension ConfirmWithinOption {
    static let names = ["--confirm-within"]

    init(_ line: DirectArguments.Line) throws {
        self.init()
        seconds = try line.integer("--confirm-within")
        try validate()
    }
}
