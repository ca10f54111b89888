import ArgumentParser
import XCTest
@testable import lvs_node

/// The direct reader of plain command lines (`DirectArguments`) must give exactly what argument-parser
/// gives for every line it accepts, and leave every other line to argument-parser.
final class DirectArgumentsTests: XCTestCase {
    /// Every option and flag of the four commands, each in at least one line.
    let accepted: [(String, [String])] = [
        ("setup", ["--role", "realserver", "--vip", "192.0.2.10"]),
        ("setup", ["--config", "/tmp/node.yaml", "--root", "/tmp", "--state-dir", "/tmp/state", "--wait", "5", "--json", "--force",
                   "--confirm-within", "120"]),
        ("setup", ["--role=realserver", "--mode", "tun", "--vip", "192.0.2.10", "--vip=192.0.2.11", "--mss", "1400", "--dry-run", "-q",
                   "--persist", "none", "--init", "sysv"]),
        ("setup", ["--role", "realserver", "--mode", "nat", "--gateway", "192.0.2.1", "--quiet"]),
        ("setup", ["--role", "director", "--interface", "eth0", "--vip", "192.0.2.10"]),
        ("setup", ["--role", "router", "--address", "eth1=203.0.113.1/24", "--address", "eth2=198.51.100.1/24",
                   "--route", "198.51.100.0/24 via 203.0.113.254", "--ipv6-forwarding"]),
        ("plan", ["--config", "/tmp/node.yaml", "--root", "/tmp", "--json"]),
        ("plan", ["--role", "realserver", "--vip", "192.0.2.10", "--state-dir", "/tmp/state", "-q", "--wait", "3"]),
        ("plan", ["--role", "router", "--mode", "default", "--interface", "eth0", "--gateway", "192.0.2.1", "--mss", "1400",
                  "--address", "eth1=203.0.113.1/24", "--route", "198.51.100.0/24 via 203.0.113.254", "--ipv6-forwarding",
                  "--persist", "netplan", "--init", "systemd", "--quiet"]),
        ("rollback", []),
        ("rollback", ["--root", "/tmp", "--state-dir", "/tmp/state", "--to", "2", "--json"]),
        ("rollback", ["--all", "--dry-run", "--quiet", "--wait", "1"]),
        ("rollback", ["--confirm-within", "60", "-q"]),
        ("rollback", ["--if-unconfirmed", "abc123", "--root", "/tmp"]),
        ("status", ["--root", "/tmp", "--state-dir", "/tmp/state", "--json", "--wait", "2"]),
        ("status", ["-q"]),
        ("status", ["--quiet"]),
    ]

    func testEveryLineItAcceptsReadsExactlyAsArgumentParserReadsIt() throws {
        for (command, arguments) in accepted {
            let direct = try XCTUnwrap(DirectArguments.parse(command, arguments), "\(command) \(arguments) was not read directly")
            let parsed = try XCTUnwrap(LVSNodeCommand.byName[command]).parseAsRoot(arguments)
            // The dump holds every wrapper's state: a property the direct reader left unset shows as a
            // definition there and as a value in argument-parser's.
            XCTAssertEqual(Self.dumped(direct), Self.dumped(parsed), "\(command) \(arguments)")
            XCTAssertFalse(Self.dumped(direct).contains("definition"), "\(command) \(arguments) left a property unset")
        }
    }

    func testEveryOptionOfTheCommandsIsReadDirectly() throws {
        // argument-parser's own list of each command's names, so an option added there and not here fails.
        for command in ["setup", "plan", "rollback", "status"] {
            let type = try XCTUnwrap(LVSNodeCommand.byName[command])
            let help = type.helpMessage(columns: 400)
            var names = Set<String>()
            // The option column of the OPTIONS lines: `  -q, --quiet   Print only…`, `  --root <dir>   Take…`.
            for line in help.split(separator: "\n") {
                let column = line.drop { $0 == " " }
                guard column.hasPrefix("-"), let end = column.firstRange(of: "  ")?.lowerBound ?? Optional(column.endIndex) else { continue }
                for spelling in column[..<end].split(separator: ",") {
                    if let name = spelling.split(separator: " ").first, name.hasPrefix("-") { names.insert(String(name)) }
                }
            }
            names.subtract(["--help", "-h", "--version"])
            var used = Set<String>()
            for (name, arguments) in accepted where name == command {
                for argument in arguments where argument.hasPrefix("-") {
                    used.insert(String(argument.prefix { $0 != "=" }))
                }
            }
            XCTAssertEqual(names.subtracting(used), Set<String>(), "\(command): options no accepted line gives (add them to DirectArguments and to this test)")
        }
    }

    func testLinesOutsideThePlainFormAreLeftToArgumentParser() {
        let refused: [(String, [String])] = [
            ("setup", ["--role", "realserver", "--vip"]),                       // missing value
            ("setup", ["--role", "realserver", "--role", "director"]),          // single value twice
            ("setup", ["--rol", "realserver"]),                                 // not an option
            ("setup", ["--config", "-"]),                                       // a value that starts with -
            ("setup", ["--role", "realserver", "--json", "--json"]),            // flag twice
            ("setup", ["--role", "realserver", "-q", "--quiet"]),
            ("setup", ["--role", "realserver", "--", "--vip"]),
            ("setup", ["--role="]),
            ("setup", ["--config", "/tmp/node.yaml", "--vip", "192.0.2.10"]),  // fails SpecOptions.validate
            ("setup", ["--vip", "192.0.2.10"]),                                 // no role
            ("setup", ["--role", "realserver", "--wait", "soon"]),
            ("setup", ["--role", "realserver", "--root", "/nonexistent-rs17"]),
            ("setup", ["--role", "realserver", "--confirm-within", "0"]),
            ("rollback", ["--all", "--to", "2"]),                               // fails Rollback.validate
            ("rollback", ["--to", "0"]),
            ("status", ["--vip", "192.0.2.10"]),                                // not a status option
            ("status", ["--json=yes"]),
            ("history", []),                                                    // not a command it reads
        ]
        for (command, arguments) in refused {
            XCTAssertNil(DirectArguments.parse(command, arguments), "\(command) \(arguments)")
        }
    }

    static func dumped(_ value: Any) -> String {
        var text = ""
        dump(value, to: &text)
        return text
    }
}
