import Foundation
import NodeModel
import Testing

@Suite struct UserDataTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    @Test func aCloudConfigDocumentCarriesTheSpec() throws {
        let input = try #require(try UserData.spec(in: "#cloud-config\npackages: [curl]\nlvs_node:\n  role: realserver\n  vips: [192.0.2.10]\n", source: "ud"))
        let (spec, _) = try input.resolve(with: catalog)
        #expect(spec.vips.map(\.description) == ["192.0.2.10"])
    }

    @Test func withoutTheKeyThereIsNothingToDo() throws {
        #expect(try UserData.spec(in: "#cloud-config\npackages: [curl]\n", source: "ud") == nil)
        #expect(try UserData.spec(in: "#!/bin/sh\necho hi\n", source: "ud") == nil)
    }

    @Test func theCloudConfigPartOfAMultipartMessageIsFoundPlainOrBase64() throws {
        let config = "#cloud-config\nlvs_node:\n  role: realserver\n  mode: tun\n  vips: [192.0.2.20]\n"
        for (encoding, body) in [("7bit", config), ("base64", Data(config.utf8).base64EncodedString(options: [.lineLength64Characters]))] {
            let message = """
                Content-Type: multipart/mixed; boundary="===============0740947994048919689=="
                MIME-Version: 1.0

                --===============0740947994048919689==
                Content-Type: text/x-shellscript; charset="us-ascii"
                MIME-Version: 1.0
                Content-Transfer-Encoding: 7bit

                #!/bin/sh
                echo first
                --===============0740947994048919689==
                Content-Type: text/cloud-config; charset="us-ascii"
                MIME-Version: 1.0
                Content-Transfer-Encoding: \(encoding)
                Content-Disposition: attachment; filename="lvs.yaml"

                \(body)
                --===============0740947994048919689==--

                """.replacingOccurrences(of: "\n", with: "\r\n")
            let input = try #require(try UserData.spec(in: message, source: "ud"), "\(encoding)")
            let (spec, _) = try input.resolve(with: catalog)
            #expect(spec.mode == "tun")
            #expect(spec.vips.map(\.description) == ["192.0.2.20"])
        }
    }

    @Test func aBadSpecInTheUserDataNamesItsPlace() {
        #expect {
            try UserData.spec(in: "#cloud-config\nlvs_node:\n  role: realserver\n  vipz: [192.0.2.10]\n", source: "user-data.txt")
        } throws: { error in "\(error)".contains("user-data.txt (cloud-config part 1) line 4: unknown key 'vipz'") }
    }

    @Test func theExamplesInTheRepositoryAreValidSpecs() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/cloud-init").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 4)
        for file in files {
            let text = try String(contentsOf: examples.appendingPathComponent(file), encoding: .utf8)
            let input = try #require(try UserData.spec(in: text, source: file), "\(file)")
            _ = try input.resolve(with: catalog)
        }
    }
}
