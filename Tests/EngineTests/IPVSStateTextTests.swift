import HostAccess
@testable import Steps
import Testing

/// The read of a table reuses the previous real server's state text when `sameState` says it reads
/// the same: that must hold exactly when `state(_:)` writes the same text, or drift would be missed.
@Suite struct IPVSStateTextTests {
    static let service = IPVSServiceKey.firewallMark(1, ipv6: false)

    static let variants: [IPVSDestination] = {
        var result: [IPVSDestination] = []
        for forwarding in IPVSForwarding.allCases {
            for weight: Int32 in [0, 1, 10] {
                for (upper, lower): (UInt32, UInt32) in [(0, 0), (100, 0), (0, 5), (100, 5)] {
                    result.append(IPVSDestination(service: service, address: "198.18.0.1", port: 0, forwarding: forwarding,
                                                  weight: weight, upperThreshold: upper, lowerThreshold: lower))
                }
            }
        }
        // What the state does not show: another address, port or counters.
        var other = result[0]
        other.address = "198.18.0.2"
        other.port = 80
        other.activeConnections = 3
        result.append(other)
        return result
    }()

    @Test func twoRealServersShareAStateTextExactlyWhenItReadsTheSame() {
        for a in Self.variants {
            for b in Self.variants {
                #expect(IPVSDriver.sameState(a, b) == (IPVSDriver.state(a) == IPVSDriver.state(b)),
                        "\(IPVSDriver.state(a)) / \(IPVSDriver.state(b))")
            }
        }
    }
}
