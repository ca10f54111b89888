import Engine
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
}
