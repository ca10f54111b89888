import Engine
import Foundation
@testable import LVSNode
import Testing
import TestSupport

/// The systemd side of confirm-or-revert cannot run end to end here (systemd is not PID 1 in the test
/// machine or the lab VM); what can be checked is that the command lvs-node would hand systemd-run is
/// one the installed systemd-run accepts, and that the revert it runs names the confirmation.
@Suite struct ConfirmTimerTests {
    let confirmation = Confirmation(command: .setup, inForce: 7, newest: 7, restore: nil, deadline: 1_795_500_000)

    @Test(.enabled(if: which("systemd-run") != nil, "needs systemd-run"))
    func everyOptionGivenToSystemdRunIsOneItKnows() throws {
        let arguments = ConfirmTimer.systemdRunArguments(confirmation, seconds: 120, binary: "/usr/sbin/lvs-node",
                                                         revert: ConfirmTimer.revertArguments(confirmation, root: "/", stateDirectory: "/var/lib/lvs-node"))
        let help = try runProcess(which("systemd-run")!, ["--help"]).stdout
        let options = arguments.prefix { $0 != "--" }.map { String($0.prefix { $0 != "=" }) }
        #expect(options.count >= 5)
        for option in options where option.hasPrefix("--") {
            #expect(help.contains(option), "systemd-run --help does not list \(option)")
        }
        // What follows `--` is the revert, run as a plain command (no shell).
        let command = Array(arguments.drop { $0 != "--" }.dropFirst())
        #expect(command == ["/usr/sbin/lvs-node", "rollback", "--if-unconfirmed", "7-1795500000", "--root", "/", "--state-dir", "/var/lib/lvs-node"])
        #expect(arguments.contains("--unit") && arguments.contains("lvs-node-confirm-7-1795500000"))
    }

    @Test func theWatcherIsGivenAbsolutePaths() {
        let arguments = ConfirmTimer.revertArguments(confirmation, root: ConfirmTimer.absolute("root"), stateDirectory: ConfirmTimer.absolute("/s"))
        #expect(arguments[4].hasPrefix("/") && arguments[4].hasSuffix("/root"), "\(arguments)")
        #expect(arguments[6] == "/s")
    }
}
