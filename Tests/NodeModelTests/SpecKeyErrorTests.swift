import NodeModel
import Testing

/// Issue #12 finding 8: an unknown key is reported on its own line with the nearest known key, at
/// every level, and a cloud-config file given as a spec says how to apply it.
@Suite struct SpecKeyErrorTests {
    let catalog = RoleCatalog(overrideDirectory: "/nonexistent") { _ in nil }

    func error(_ text: String, source: String = "node.yaml") -> String {
        do {
            _ = try SpecInput.fromYAML(text, source: source).resolve(with: catalog)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func anUnknownKeyWithABlockValueIsReportedOnItsOwnLine() {
        let found = error("role: realserver\ntunn:\n  mss: 1400\n")
        #expect(found.hasPrefix("node.yaml line 2: unknown key 'tunn' in the node spec; did you mean 'tun'?"), "\(found)")
    }

    @Test(arguments: [
        ("role: realserver\nvipz: [192.0.2.10]\n", "node.yaml line 2: unknown key 'vipz' in the node spec; did you mean 'vips'?"),
        ("role: realserver\nmode: tun\ntun:\n  mms: 1400\n", "node.yaml line 4: unknown key 'mms' in tun; did you mean 'mss'?"),
        ("role: router\nroutes:\n  - {to: default, vai: 203.0.113.254}\n", "node.yaml line 3: unknown key 'vai' in routes[0]; did you mean 'via'?"),
        ("role: realserver\nipv6: true\n", "node.yaml line 2: unknown key 'ipv6' in the node spec; did you mean 'ipv6-forwarding'?"),
        ("role: realserver\ncolour: blue\n", "node.yaml line 2: unknown key 'colour' in the node spec; the known keys are:"),
    ])
    func anUnknownKeyNamesTheNearestKnownOne(text: String, expected: String) {
        let found = error(text)
        #expect(found.hasPrefix(expected), "\(found)")
    }

    @Test func anUnknownDirectorKeyNamesTheNearestKnownOne() {
        let found = error("role: director\nservices:\n  - vip: 192.0.2.10\n    port: 80\n    sheduler: wlc\n")
        #expect(found.contains("line 5: unknown key 'sheduler'") && found.contains("did you mean 'scheduler'?"), "\(found)")
    }

    @Test func aCloudConfigFileGivenAsASpecPointsAtTheCloudInitCommand() {
        let withHeader = error("#cloud-config\nlvs_node:\n  role: realserver\n  vips: [192.0.2.10]\n", source: "user-data.yaml")
        #expect(withHeader.contains("lvs-node cloud-init --user-data user-data.yaml"), "\(withHeader)")
        #expect(!withHeader.contains("unknown key"))
        let withoutHeader = error("packages: [curl]\nlvs_node:\n  role: realserver\n", source: "ud.yaml")
        #expect(withoutHeader.hasPrefix("ud.yaml line 2: this is cloud-init user-data"), "\(withoutHeader)")
        #expect(withoutHeader.contains("lvs-node cloud-init --user-data ud.yaml"))
    }
}
