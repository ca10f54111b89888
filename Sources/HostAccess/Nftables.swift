import Glibc

/// `PacketFilter` through nft(8), which applies a whole file as one kernel transaction (what
/// `nft -f` is for). Arguments go to the process as a list and the ruleset through its standard
/// input: no shell is involved.
public final class Nftables: PacketFilter {
    private let executable: String

    public init(executable: String = "/usr/sbin/nft") { self.executable = executable }

    public var isAvailable: Bool { access(executable, X_OK) == 0 }

    public func table(family: String, name: String) throws -> String? {
        let result = try run(["list", "table", family, name], input: nil)
        if result.status != 0 {
            if try !exists(family: family, name: name) { return nil }
            throw HostError(operation: "listing", subject: "nftables table \(family) \(name): \(result.error)", errno: EIO)
        }
        return result.output
    }

    public func replace(family: String, name: String, with ruleset: String) throws {
        // Creating, deleting and re-creating in one file makes the swap atomic whether or not it existed.
        let script = "table \(family) \(name)\ndelete table \(family) \(name)\n" + ruleset
        let result = try run(["-f", "-"], input: script)
        guard result.status == 0 else {
            throw HostError(operation: "applying", subject: "nftables table \(family) \(name): \(result.error)", errno: EIO)
        }
    }

    public func delete(family: String, name: String) throws {
        let result = try run(["delete", "table", family, name], input: nil)
        guard try result.status == 0 || !exists(family: family, name: name) else {
            throw HostError(operation: "deleting", subject: "nftables table \(family) \(name): \(result.error)", errno: EIO)
        }
    }

    /// Whether the table exists, from `nft list tables` (lines `table FAMILY NAME`), rather than from the
    /// wording of an error message, which the C library translates.
    private func exists(family: String, name: String) throws -> Bool {
        let result = try run(["list", "tables", family], input: nil)
        guard result.status == 0 else {
            throw HostError(operation: "listing", subject: "nftables tables of family \(family): \(result.error)", errno: EIO)
        }
        return result.output.split(separator: "\n").contains { $0 == "table \(family) \(name)" }
    }

    private func run(_ arguments: [String], input: String?) throws -> ProcessRunner.Result {
        try ProcessRunner.run(executable, arguments, input: input)
    }
}
