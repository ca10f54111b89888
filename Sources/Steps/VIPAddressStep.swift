import Engine
import HostAccess
import NodeModel

/// Role step `kind: vip-addresses`: every VIP as a host address (/32, /128) on one device, IPv4 ones
/// with a label from a pattern such as `lo:{n}`. A VIP keeps its label across runs, so adding one
/// never renumbers the others; a new one takes the lowest free number.
enum VIPAddressStep {
    static let kind = "vip-addresses"
    /// IFNAMSIZ - 1: the kernel's limit for a label.
    static let maximumLabelLength = 15

    static func desired(_ step: Role.Step, vips: [IPAddress], previous: DesiredStep?,
                        addresses: AddressControl) throws -> DesiredStep {
        let deviceValue = try step.requiredSetting("device")
        let device = try deviceValue.string("device")
        let patternValue = try step.requiredSetting("label")
        let pattern = try LabelPattern(try patternValue.string("label"), location: patternValue.location)
        guard !vips.isEmpty else {
            throw SpecError("--vip", "the \(step.name) step needs at least one VIP; give --vip ADDRESS (or vips: in the spec file)")
        }
        guard try addresses.interfaceNames().contains(device) else {
            throw SpecError(deviceValue.location, "the interface '\(device)' does not exist on this host")
        }

        var hostLabels: [String: String] = [:]   // cidr on the device → label
        var used = Set<String>()
        for address in try addresses.addresses() where address.interface == device {
            if let label = address.label { hostLabels[address.cidr] = label; used.insert(label) }
        }
        let cidrs = vips.map { $0.description + "/" + String($0.hostPrefixLength) }
        let subjects = cidrs.map { AddressDriver.subject(device: device, cidr: $0) }
        let wanted = Set(subjects)
        var earlier: [String: String] = [:]
        for entry in previous?.desired ?? [] where wanted.contains(entry.subject) {
            if let label = entry.state, pattern.matches(label) { earlier[entry.subject] = label; used.insert(label) }
        }

        var desired: [Desired] = []
        desired.reserveCapacity(vips.count)
        var next = 0
        for (index, vip) in vips.enumerated() {
            let cidr = cidrs[index]
            let subject = subjects[index]
            guard vip.family == .v4 else {
                desired.append(Desired(subject: subject, state: AddressDriver.presentWithoutLabel))
                continue
            }
            if let label = earlier[subject] ?? hostLabels[cidr].flatMap({ pattern.matches($0) ? $0 : nil }) {
                used.insert(label)
                desired.append(Desired(subject: subject, state: label))
                continue
            }
            while used.contains(pattern.label(next)) { next += 1 }
            let label = pattern.label(next)
            guard label.utf8.count <= maximumLabelLength else {
                throw SpecError(patternValue.location, "the label '\(label)' for \(vip) is longer than \(maximumLabelLength) characters (IFNAMSIZ - 1); use a shorter device name or pattern")
            }
            used.insert(label)
            desired.append(Desired(subject: subject, state: label))
        }
        return DesiredStep(name: step.name, kind: AddressDriver.kindName, desired: desired)
    }
}

/// `lo:{n}` → lo:0, lo:1, …
struct LabelPattern {
    let prefix: String
    let suffix: String

    init(_ text: String, location: String) throws {
        let parts = text.components(separatedBy: "{n}")
        guard parts.count == 2 else {
            throw SpecError(location, "the label pattern '\(text)' must contain {n} exactly once, e.g. lo:{n}")
        }
        prefix = parts[0]
        suffix = parts[1]
    }

    func label(_ number: Int) -> String { "\(prefix)\(number)\(suffix)" }

    func matches(_ label: String) -> Bool {
        guard label.hasPrefix(prefix), label.hasSuffix(suffix), label.count > prefix.count + suffix.count else { return false }
        let middle = label.dropFirst(prefix.count).dropLast(suffix.count)
        return middle.allSatisfy(\.isNumber)
    }
}

private extension String {
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.range(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
