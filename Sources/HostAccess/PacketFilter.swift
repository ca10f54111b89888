/// Tables of the kernel's packet filter (nftables) that lvs-node owns whole.
public protocol PacketFilter: AnyObject {
    /// Whether tables can be managed here (the nft tool is installed).
    var isAvailable: Bool { get }
    /// The table as `nft list table` prints it, or nil when it does not exist.
    func table(family: String, name: String) throws -> String?
    /// Replaces the table with `ruleset` (a `table FAMILY NAME { … }` block) in one transaction.
    func replace(family: String, name: String, with ruleset: String) throws
    func delete(family: String, name: String) throws
}
