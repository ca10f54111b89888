import Glibc

/// What the running kernel can do, asked before anything changes.
public enum KernelFeatures {
    /// IPIP tunnels: the module is loaded (or built in), or the kernel has it as a loadable module
    /// that creating the device would load.
    public static func hasIPIP(modules: String = "/sys/module", libModules: String = "/lib/modules") -> Bool {
        if access("\(modules)/ipip", F_OK) == 0 { return true }
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: names.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        guard let bytes = try? DurableFiles.read("\(libModules)/\(release)/modules.dep") else { return false }
        return String(decoding: bytes, as: UTF8.self).contains("/ipip.ko")
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
