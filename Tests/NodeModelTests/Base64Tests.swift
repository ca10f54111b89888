import Foundation
@testable import NodeModel
import Testing

/// UserData decodes base64 parts without Foundation: it must agree with Foundation's decoder.
@Suite struct Base64Tests {
    @Test func decodesWhatFoundationEncodes() {
        var random = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(Base64.decode(Data(bytes).base64EncodedString()) == bytes)
        }
    }

    /// Stricter than Foundation where it is lenient (corelibs takes "ABAA="), never looser.
    @Test func acceptsOnlyWhatFoundationAcceptsTheSameWay() {
        let alphabet = Array("AQB+/=a0-")
        var state: UInt64 = 20261124
        for _ in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 60)
            var text = ""
            for index in 0..<length { text.append(alphabet[Int((state >> UInt64(index * 3 % 57)) % UInt64(alphabet.count))]) }
            if let decoded = Base64.decode(text) {
                #expect(Data(base64Encoded: text).map { Array($0) } == decoded, "\(text)")
            }
        }
    }
}
