import Foundation
import Testing
import TestSupport

/// The shipped binary stays small (issue #16): one use of full Foundation anywhere, even an overload
/// reaching a file through another module's re-export, links all of Foundation and 34 MB of ICU data.
/// ArgumentParser's FoundationEssentials is expected. Read from the binary's bytes, so it holds for the
/// static release binary `Tests/run` tests (symbols, type metadata, ICU's data package), stripped or not,
/// and for a debug build (its dynamic dependencies).
@Suite struct NoFoundationTests {
    static let markers = [
        ("icudt", "ICU's data package"),
        ("10Foundation", "a symbol or type of the Foundation module"),
        ("30FoundationInternationalization", "a symbol of FoundationInternationalization"),
        ("libFoundation.so", "a dynamic dependency on Foundation"),
        ("lib_FoundationICU", "a dynamic dependency on ICU"),
    ]

    @Test func theBinaryCarriesNoFoundationAndNoICU() throws {
        let binary = try Data(contentsOf: URL(fileURLWithPath: lvsNodeBinary), options: .alwaysMapped)
        for (marker, what) in Self.markers {
            #expect(binary.range(of: Data(marker.utf8)) == nil,
                    "\(lvsNodeBinary) holds '\(marker)' (\(what)): some code uses Foundation again; `nm \(lvsNodeBinary) | grep \(marker)` names it")
        }
    }
}
