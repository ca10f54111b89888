/// The director's kernel settings, validated: the IPVS connection table's size (a module parameter,
/// read when ip_vs loads) and the spec's `net.ipv4.vs.*` values over the role's defaults.
public struct KernelSettings: Equatable, Sendable {
    /// 2^18 = 262,144 buckets (2 MiB of hash heads on 64 bits): about four entries a chain at a million
    /// concurrent connections. The kernel's 12 (4,096) makes long chains from a few tens of thousands.
    public static let defaultConnTabBits = 18
    /// The kernel's bounds for `ip_vs conn_tab_bits` (CONFIG_IP_VS_TAB_BITS, 8 to 20).
    public static let connTabBitsRange = 8...20

    /// nil: `defaultConnTabBits`.
    public var connTabBits: Int?
    /// `net.ipv4.vs.NAME` → value, as given; they replace the role's value of the same name.
    public var sysctls: [String: String]

    public init(connTabBits: Int? = nil, sysctls: [String: String] = [:]) {
        self.connTabBits = connTabBits
        self.sysctls = sysctls
    }

    public var effectiveConnTabBits: Int { connTabBits ?? Self.defaultConnTabBits }

    /// The IPVS sysctls a spec may set: the integer ones of `ip_vs_ctl.c` and the schedulers'
    /// (Documentation/networking/ipvs-sysctl.rst). Whether the running kernel has one is checked
    /// when the plan is made, as for every sysctl.
    public static let ipvsSysctlNames = [
        "am_droprate", "amemthresh", "backup_only", "cache_bypass", "conn_reuse_mode", "conntrack", "debug_level", "drop_entry",
        "drop_packet", "est_nice", "expire_nodest_conn", "expire_quiescent_template", "ignore_tunneled", "lblc_expiration",
        "lblcr_expiration", "nat_icmp_send", "pmtu_disc", "run_estimation", "schedule_icmp", "secure_tcp", "sloppy_sctp",
        "sloppy_tcp", "snat_reroute", "sync_persist_mode", "sync_ports", "sync_qlen_max", "sync_refresh_period", "sync_retries",
        "sync_sock_size", "sync_version",
    ]
    public static let sysctlPrefix = "net.ipv4.vs."
}

/// Reads the spec's `kernel:` section: `conn-tab-bits: N` and `sysctls: {net.ipv4.vs.NAME: VALUE}`,
/// collecting every problem with where it stands and what would be right.
struct KernelInput {
    var errors: [SpecError] = []

    mutating func settings(_ value: YAMLValue) -> KernelSettings {
        var result = KernelSettings()
        let fields: [(key: String, value: YAMLValue)]
        do {
            fields = try value.map("kernel", allowed: ["conn-tab-bits", "sysctls"])
        } catch {
            errors.append(error as? SpecError ?? SpecError(value.location, "\(error)"))
            return result
        }
        for (key, entry) in fields {
            switch key {
            case "conn-tab-bits":
                let range = KernelSettings.connTabBitsRange
                guard let text = scalar(entry, "kernel.conn-tab-bits") else { continue }
                if let bits = Int(text), range.contains(bits) {
                    result.connTabBits = bits
                } else {
                    errors.append(SpecError(entry.location, "kernel.conn-tab-bits '\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound) (the IPVS connection table has 2^N buckets; the kernel's default is 12, lvs-node's \(KernelSettings.defaultConnTabBits))"))
                }
            default:
                result.sysctls = sysctls(entry)
            }
        }
        return result
    }

    private mutating func sysctls(_ value: YAMLValue) -> [String: String] {
        let pairs: [(key: String, value: YAMLValue)]
        do {
            pairs = try value.anyMap("kernel.sysctls")
        } catch {
            errors.append(error as? SpecError ?? SpecError(value.location, "\(error)"))
            return [:]
        }
        var result: [String: String] = [:]
        for (name, entry) in pairs {
            let location = entry.keyLocation
            guard name.hasPrefix(KernelSettings.sysctlPrefix) else {
                errors.append(SpecError(location, "kernel.sysctls takes only IPVS sysctls (net.ipv4.vs.NAME); '\(name)' is not one"))
                continue
            }
            let short = String(name.dropFirst(KernelSettings.sysctlPrefix.count))
            guard KernelSettings.ipvsSysctlNames.contains(short) else {
                let hint = NearestName.suggestion(for: short, in: KernelSettings.ipvsSysctlNames)
                    .map { "; did you mean \(KernelSettings.sysctlPrefix)\($0)?" } ?? "; the IPVS sysctls are listed in the kernel's ipvs-sysctl.rst"
                errors.append(SpecError(location, "'\(name)' is not an IPVS sysctl lvs-node can set\(hint)"))
                continue
            }
            guard let text = scalar(entry, "kernel.sysctls.\(name)") else { continue }
            // Whole numbers only: the value goes to /proc/sys and into sysctl.d as it is.
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), Int32(text) != nil else {
                errors.append(SpecError(entry.location, "kernel.sysctls.\(name) '\(text)' must be a whole number, e.g. 1"))
                continue
            }
            result[name] = String(Int32(text)!)
        }
        return result
    }

    private mutating func scalar(_ value: YAMLValue, _ name: String) -> String? {
        if case .scalar(let text) = value.content { return text }
        errors.append(SpecError(value.location, "\(name) must be a single value, not a list or a map"))
        return nil
    }
}
