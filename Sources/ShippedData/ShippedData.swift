// The roles and templates that ship inside the binary, so a copied binary works alone.
// An operator's file of the same name under /etc/lvs-node/ takes precedence (see the catalogs).
public enum ShippedData {
    public static let roles: [String: [UInt8]] = [
        "realserver": PackageResources.realserver_yaml,
        "router": PackageResources.router_yaml,
        "director": PackageResources.director_yaml,
    ]

    /// Keyed by the name roles use, without `.mustache`.
    public static let templates: [String: [UInt8]] = [
        "sysctl.conf": PackageResources.sysctl_conf_mustache,
        "netplan-vips.yaml": PackageResources.netplan_vips_yaml_mustache,
        "ifcfg-address": PackageResources.ifcfg_address_mustache,
        "lvs-node.service": PackageResources.lvs_node_service_mustache,
        "lvs-node.init": PackageResources.lvs_node_init_mustache,
        "nftables-mss.nft": PackageResources.nftables_mss_nft_mustache,
        "nftables-marks.nft": PackageResources.nftables_marks_nft_mustache,
        "keepalived.conf": PackageResources.keepalived_conf_mustache,
        "cloud-init-hook.sh": PackageResources.cloud_init_hook_sh_mustache,
        "modules-load.conf": PackageResources.modules_load_conf_mustache,
        "modules-load-ipip.conf": PackageResources.modules_load_ipip_conf_mustache,
        "modprobe.conf": PackageResources.modprobe_conf_mustache,
    ]
}
