import Engine
import HostAccess
import Steps
import Testing
import TestSupport

/// The plan line of every kind of address change, word for word (scripts and people read them).
@Suite struct AddressPlanLineTests {
    let driver = AddressDriver(FakeKernel())

    func line(_ subject: String, _ before: String?, _ after: String?) -> String {
        driver.describe(Change(kind: AddressDriver.kindName, subject: subject, before: before, after: after))
    }

    @Test func everyKindOfAddressChangeReadsAsItAlwaysDid() {
        #expect(line("lo 192.0.2.10/32", nil, "lo:0") == "address 192.0.2.10/32 on lo (label lo:0)")
        #expect(line("lo 192.0.2.10/32", "lo:0", nil) == "address 192.0.2.10/32 on lo (label lo:0)")
        #expect(line("lo 192.0.2.10/32", "lo:0", "lo:3") == "address 192.0.2.10/32 on lo label lo:0 → lo:3")
        #expect(line("eth0 2001:db8::10/128", nil, "present") == "address 2001:db8::10/128 on eth0")
        #expect(line("lo 192.0.2.10/32", nil, nil) == "address 192.0.2.10/32 on lo")
        #expect(line("not-a-subject", nil, "lo:0") == "address not-a-subject (label lo:0)")
    }

    /// The host's addresses are read into subjects written in one allocation each (not through their
    /// cidr text): every prefix length's digits and both families must come out as the plan names them.
    @Test func theHostsAddressesAreReadUnderTheSubjectsThePlanNames() throws {
        let kernel = FakeKernel(interfaces: ["lo", "eth0", "a-long-name0"])
        kernel.addressList = [
            InterfaceAddress(interface: "lo", address: "192.0.2.10", prefixLength: 32, label: "lo:0"),
            InterfaceAddress(interface: "eth0", address: "203.0.113.1", prefixLength: 24),
            InterfaceAddress(interface: "eth0", address: "198.51.100.0", prefixLength: 0),
            InterfaceAddress(interface: "eth0", address: "198.51.100.7", prefixLength: 9),
            InterfaceAddress(interface: "a-long-name0", address: "2001:db8::10", prefixLength: 128),
            InterfaceAddress(interface: "eth0", address: "2001:db8:1::1", prefixLength: 64),
        ]
        let subjects = ["lo 192.0.2.10/32", "eth0 203.0.113.1/24", "eth0 198.51.100.0/0", "eth0 198.51.100.7/9",
                        "a-long-name0 2001:db8::10/128", "eth0 2001:db8:1::1/64", "eth0 203.0.113.1/32"]
        let states = try AddressDriver(kernel).read(subjects)
        #expect(states == ["lo:0", "eth0", "eth0", "eth0", "present", "present", nil] as [String?])
    }
}
