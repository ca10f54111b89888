import Glibc
import NodeModel
import Testing

/// IPv4 addresses are parsed and printed without inet_pton/inet_ntop on the common path; they must
/// accept, refuse and print exactly as glibc does.
@Suite struct IPAddressTextTests {
    static func glibc(_ text: String) -> [UInt8]? {
        var raw = in_addr()
        guard !text.contains(":"), inet_pton(AF_INET, text, &raw) == 1 else { return nil }
        return withUnsafeBytes(of: raw) { Array($0) }
    }

    static func glibcText(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 16)
        bytes.withUnsafeBytes { _ = inet_ntop(AF_INET, $0.baseAddress, &buffer, 16) }
        return String(cString: buffer)
    }

    @Test func acceptsAndRefusesWhatInetPtonDoes() {
        let samples = ["0.0.0.0", "192.0.2.10", "255.255.255.255", "198.18.0.1", "1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.00",
                       "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/32",
                       "1000.1.1.1", "0x1.2.3.4", "1.2.3.-4", "", "٣.2.3.4", "1.2.3.4\u{301}", "2001:db8::1", "::ffff:1.2.3.4"]
        for text in samples {
            let parsed = IPAddress(text)
            if let expected = Self.glibc(text) {
                #expect(parsed?.family == .v4 && parsed?.bytes == expected, "\(text)")
            } else {
                #expect(parsed == nil || parsed?.family == .v6, "\(text)")
            }
        }
    }

    @Test func printsWhatInetNtopPrints() {
        for bytes: [UInt8] in [[0, 0, 0, 0], [192, 0, 2, 10], [255, 255, 255, 255], [10, 100, 9, 99], [1, 20, 201, 0]] {
            #expect(IPAddress(family: .v4, bytes: bytes).description == Self.glibcText(bytes))
        }
    }
}
