import Glibc

/// What the running kernel can do, asked before anything changes.
public enum KernelFeatures {
    /// IPIP tunnels: the module is loaded (or built in), or the kernel has it as a loadable module
    /// that creating the device would load.
    public static func hasIPIP(modules: String = "/sys/module", libModules: String = "/lib/modules") -> Bool {
        hasModule("ipip", modules: modules, libModules: libModules)
    }

    /// IPVS itself, or one of its schedulers (`ip_vs_wrr`), which the kernel loads when a service names it.
    public static func hasIPVS(scheduler: String? = nil, modules: String = "/sys/module", libModules: String = "/lib/modules") -> Bool {
        hasModule(scheduler.map { "ip_vs_\($0)" } ?? "ip_vs", modules: modules, libModules: libModules)
    }

    /// The module is loaded or built in (it shows under /sys/module), or the running kernel's
    /// modules.dep lists it, so the kernel can load it on demand.
    static func hasModule(_ name: String, modules: String, libModules: String) -> Bool {
        if access("\(modules)/\(name)", F_OK) == 0 { return true }
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: names.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        guard let bytes = try? DurableFiles.read("\(libModules)/\(release)/modules.dep") else { return false }
        return String(decoding: bytes, as: UTF8.self).contains("/\(name).ko")
    }
}

/// The host lacks something a step needs (a kernel feature, a tool); found before anything changed.
public struct MissingKernelFeature: Error, CustomStringConvertible {
    public let feature: String
    public let needed: String

    public init(feature: String, needed: String) {
        self.feature = feature
        self.needed = needed
    }

    public var description: String {
        "this host has no \(feature), which \(needed) needs; nothing was changed"
    }
}
