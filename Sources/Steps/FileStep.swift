import Engine
import Glibc
import HostAccess
import NodeModel
import Render

/// What file templates may use: the spec, where lvs-node runs, and the desired state of the steps
/// before the file step (VIPs with their labels, sysctls).
public struct RenderContext {
    /// Paths the boot unit and init script call lvs-node with.
    public var binary: String
    public var root: String
    public var stateDirectory: String

    public init(binary: String, root: String, stateDirectory: String) {
        self.binary = binary
        self.root = root
        self.stateDirectory = stateDirectory
    }

    /// Values written into unit files and shell scripts between quotes must not end the quoting.
    func validate() throws {
        for (name, value) in [("the lvs-node binary path", binary), ("--root", root), ("--state-dir", stateDirectory)] {
            if let bad = value.first(where: { "'\"\\\n$`%".contains($0) }) {
                throw SpecError(name, "'\(value)' contains \(bad == "\n" ? "a newline" : "'\(bad)'"), which cannot be written safely into a boot script; use a plain path")
            }
        }
    }

    func values(_ spec: NodeSpec, earlier: [DesiredStep]) -> [String: Any] {
        var addresses: [TemplateAddress] = []
        var sysctls: [[String: Any]] = []
        var netmasks: [Int: String] = [:]
        func netmask(_ prefix: Int) -> String {
            if let known = netmasks[prefix] { return known }
            let text = IPAddress.netmask(prefixLength: prefix)
            netmasks[prefix] = text
            return text
        }
        for step in earlier {
            for desired in step.desired {
                guard let state = desired.state else { continue }
                if step.kind == AddressDriver.kindName {
                    // On UTF-8 bytes: Character splitting of a thousand subjects was a sixth of a no-op run.
                    guard let (device, cidr) = AddressDriver.halves(desired.subject, at: UInt8(ascii: " ")),
                          let (address, prefix) = AddressDriver.halves(cidr, at: UInt8(ascii: "/")) else { continue }
                    addresses.append(TemplateAddress(cidr: cidr, address: address, device: device,
                                                     netmask: netmask(Int(prefix) ?? 32),
                                                     label: state == AddressDriver.presentWithoutLabel ? nil : state))
                } else if step.kind == SysctlDriver.kindName {
                    sysctls.append(["name": SysctlDriver.key(desired.subject).description, "value": state])
                }
            }
        }
        let common: [String: Any] = ["role": spec.role, "mode": spec.mode, "service": "lvs-node-\(spec.role)",
                                     "binary": binary, "root": root, "stateDirectory": stateDirectory,
                                     "addresses": addresses, "sysctls": sysctls]
                                     .merging(KernelTemplateValues.values(spec)) { $1 }
        // Only keepalived.conf reads the director's values: a thousand services cost building them.
        guard spec.ha != nil else { return common }
        return common.merging(DirectorTemplateValues.values(spec)) { $1 }
    }
}

/// One address as templates see it (`{{#addresses}}{{cidr}}{{label}}{{/addresses}}`). A struct the
/// template engine reads by reflection, so a thousand of them cost little when no template uses them.
struct TemplateAddress {
    let cidr: String
    let address: String
    let device: String
    let netmask: String
    /// IPv4 only.
    let label: String?

    var fields: [String: Any] {
        var result: [String: Any] = ["cidr": cidr, "address": address, "device": device, "netmask": netmask]
        if let label { result["label"] = label }
        return result
    }
}

/// Role steps `kind: file` (a file from a template) and `kind: symlink`. `path` is itself a template,
/// or a list of them; with `each: labelled-address` the step writes one file per IPv4 VIP, the
/// address's fields added to the context (`ifcfg-{{label}}`).
enum FileStep {
    static let fileKind = "file"
    static let symlinkKind = "symlink"

    /// `root`: where the files live, to skip checking a file that is already as wanted; `origin`:
    /// where the spec values a checker may refuse were given (the `ha:` section), for its error.
    static func desired(_ step: Role.Step, values: [String: Any], renderer: TemplateRenderer, root: HostRoot,
                        origin: String? = nil) throws -> DesiredStep {
        let pathTemplate = try step.requiredSetting("path")
        var contexts = [values]
        if let each = step.setting("each") {
            guard try each.string("each") == "labelled-address" else {
                throw SpecError(each.location, "each: must be labelled-address")
            }
            let addresses = values["addresses"] as? [TemplateAddress] ?? []
            contexts = addresses.filter { $0.label != nil }.map { values.merging($0.fields) { _, element in element } }
        }
        let paths: [String]
        if case .list(let items) = pathTemplate.content {
            paths = try items.map { try $0.string("path") }
        } else {
            paths = [try pathTemplate.string("path")]
        }
        let desired = try contexts.flatMap { context in paths.map { (context, $0) } }.map { context, template -> Desired in
            let path = try TemplateRenderer.render(template, context, origin: pathTemplate.location)
            guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw SpecError(pathTemplate.location, "the path '\(path)' must be absolute and must not contain '..'")
            }
            switch step.kind {
            case symlinkKind:
                let target = try step.requiredSetting("target")
                let rendered = try TemplateRenderer.render(try target.string("target"), context, origin: target.location)
                return Desired(subject: path, state: FileDriver.linkState(target: rendered))
            default:
                let template = try step.requiredSetting("template").string("template")
                let content = try renderer.render(template, context)
                let state = FileDriver.fileState(mode: try mode(step), content: content)
                if let validate = step.setting("validate") {
                    try check(content, path, state, validate, root: root, step: step, origin: origin)
                }
                return Desired(subject: path, state: state)
            }
        }
        return DesiredStep(name: step.name, kind: FileDriver.kindName, desired: desired)
    }

    /// `validate: [PROGRAM, ARG…]`: the file's own checker (`{file}` is the new text's path) must
    /// accept a new or changed file before anything changes.
    /// `origin`: where the spec values the file is made from were given, named by the error.
    private static func check(_ content: String, _ path: String, _ state: String, _ validate: YAMLValue, root: HostRoot,
                              step: Role.Step, origin: String?) throws {
        let command = try validate.list("validate").map { try $0.string("validate") }
        guard let program = command.first, program.hasPrefix("/") else {
            throw SpecError(validate.location, "validate must be a list starting with the checker's absolute path, e.g. [/usr/sbin/keepalived, -t, -f, \"{file}\"]")
        }
        if try FileDriver(root: root).read([path]).first == state { return }
        do {
            try ConfigCheck.check(content, program: program, arguments: Array(command.dropFirst()),
                                  needed: "checking \(path) (step '\(step.name)')", target: path)
        } catch let failure as ConfigCheck.Failure {
            let consumer = program.split(separator: "/").last.map(String.init) ?? program
            throw SpecError(origin ?? path, "\(consumer) refuses the \(path) made from this spec, so nothing was changed; `\(failure.command)` said:\n\(failure.output)")
        }
    }

    private static func mode(_ step: Role.Step) throws -> mode_t {
        guard let value = step.setting("mode") else { return 0o644 }
        let text = try value.string("mode")
        guard let mode = mode_t(text, radix: 8), mode <= 0o7777 else {
            throw SpecError(value.location, "mode '\(text)' is not an octal file mode such as \"0644\"")
        }
        return mode
    }
}
