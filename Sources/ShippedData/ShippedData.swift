// The roles (and later templates) that ship inside the binary, so a copied binary works alone.
// An operator's file of the same name under /etc/lvs-node/ takes precedence (see RoleCatalog).
public enum ShippedData {
    public static let roles: [String: [UInt8]] = [
        "realserver": PackageResources.realserver_yaml,
    ]
}
