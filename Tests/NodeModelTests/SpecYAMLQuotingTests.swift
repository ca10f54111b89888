import Testing
@testable import NodeModel

/// Values a generation's spec holds are double-quoted; plain printable ASCII goes through as it is, and
/// everything YAML would read differently is still escaped.
@Suite struct SpecYAMLQuotingTests {
    @Test func plainValuesAreQuotedAsTheyAre() {
        #expect(SpecYAML.quoted("198.18.0.1") == "\"198.18.0.1\"")
        #expect(SpecYAML.quoted("") == "\"\"")
        #expect(SpecYAML.quoted(" ~!#$%&'()*+,-./:;<=>?@[]^_`{|}") == "\" ~!#$%&'()*+,-./:;<=>?@[]^_`{|}\"")
    }

    @Test func quotesBackslashesAndControlCharactersAreEscaped() {
        #expect(SpecYAML.quoted("a\"b") == "\"a\\\"b\"")
        #expect(SpecYAML.quoted("a\\b") == "\"a\\\\b\"")
        #expect(SpecYAML.quoted("a\tb\u{7f}") == "\"a\\x09b\\x7F\"")
        #expect(SpecYAML.quoted("\u{85}é") == "\"\\x85é\"")
    }
}
