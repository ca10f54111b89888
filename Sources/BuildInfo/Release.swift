/// The release version, in one place: `lvs-node --version` and `version --json` print it with the
/// commit (`BuildCommit.value`, written by the BuildCommit plugin at build time).
public enum Release {
    public static let version = "0.3.0"
    /// What `lvs-node --version` prints: `lvs-node 0.3.0 (commit 0123abcd4567)`.
    public static var description: String { "lvs-node \(version) (commit \(BuildCommit.value))" }
}
