import Engine
import HostAccess
import NodeModel

/// Role steps that put addresses on interfaces, IPv4 ones with a label from a pattern
/// (`lo:{n}`, `{device}:{n}`):
/// - `kind: vip-addresses`: every VIP as a host address (/32, /128) on the step's `device`
///   (`{interface}`: the spec's interface);
/// - `kind: interface-addresses`: the spec's `addresses` (a router's `eth1 203.0.113.1/24`).
/// An address keeps its label across runs, so adding one never renumbers the others; a new one takes
/// the lowest free number on its device.
enum AddressStep {
    static let vipKind = "vip-addresses"
    static let interfaceKind = "interface-addresses"
    /// IFNAMSIZ - 1: the kernel's limit for a label.
    static let maximumLabelLength = 15

    struct Entry {
        let device: String
        let address: IPAddress
        let prefixLength: Int
        var cidr: String { address.text(prefixLength: prefixLength) }
    }

    static func desired(_ step: Role.Step, spec: NodeSpec, previous: DesiredStep?, host: HostView) throws -> DesiredStep {
        let patternValue = try step.requiredSetting("label")
        let pattern = try LabelPattern(try patternValue.string("label"), location: patternValue.location)
        let entries: [Entry]
        var deviceLocation = step.location
        if step.kind == vipKind {
            let deviceValue = try step.requiredSetting("device")
            let template = try deviceValue.string("device")
            // A device from the spec's interface is the user's value: name where they gave it.
            deviceLocation = template.contains("{interface}") ? spec.locations.interface ?? deviceValue.location : deviceValue.location
            let device = spec.filling(template)
            // `optional: true`: a role that can work without VIPs (a director of mark services only).
            guard !spec.vips.isEmpty || step.setting("optional") != nil else {
                throw SpecError(spec.locations.missing(flag: "--vip"), "the \(step.name) step needs at least one VIP; give --vip ADDRESS (or vips: in the spec file)")
            }
            entries = spec.vips.map { Entry(device: device, address: $0, prefixLength: $0.hostPrefixLength) }
        } else {
            entries = spec.addresses.map { Entry(device: $0.interface, address: $0.address, prefixLength: $0.prefixLength) }
        }

        // A device the run creates itself (tunl0) need not exist yet.
        let existing = try host.addresses.interfaceNames().union(host.devicesCreatedEarlier)
        if let index = entries.firstIndex(where: { !existing.contains($0.device) }) {
            let missing = entries[index]
            let location = step.kind == vipKind ? deviceLocation
                : index < spec.locations.addresses.count ? spec.locations.addresses[index] : "--address"
            throw SpecError(location,
                            "the interface '\(missing.device)' does not exist on this host; the interfaces are: \(existing.sorted().joined(separator: ", "))")
        }

        var hostLabels: [String: String] = [:]   // "device cidr" → label
        let hostAddresses = try host.addresses.addresses()
        hostLabels.reserveCapacity(hostAddresses.count)
        for address in hostAddresses {
            guard let label = address.label else { continue }
            hostLabels[AddressDriver.subject(of: address)] = label
        }
        let subjects = entries.map { AddressDriver.subject(device: $0.device, cidr: $0.cidr) }
        // The label the previous generation gave a subject, where the pattern still fits it.
        var earlier: [String: String] = [:]
        earlier.reserveCapacity(previous?.desired.count ?? 0)
        for entry in previous?.desired ?? [] {
            guard let label = entry.state else { continue }
            let device = String(Substring(entry.subject.utf8.prefix { $0 != UInt8(ascii: " ") }))
            if pattern.matches(label, device: device) { earlier[entry.subject] = label }
        }

        var desired: [Desired] = []
        desired.reserveCapacity(entries.count)
        var next: [String: Int] = [:]
        // Device → labels in use, worked out when the first new label is needed: a re-run keeps them all.
        var used: [String: Set<String>] = [:], usedKnown = false
        for (entry, subject) in zip(entries, subjects) {
            guard entry.address.family == .v4 else {
                desired.append(Desired(subject: subject, state: AddressDriver.presentWithoutLabel))
                continue
            }
            if let label = earlier[subject] ?? hostLabels[subject].flatMap({ pattern.matches($0, device: entry.device) ? $0 : nil }) {
                if usedKnown { used[entry.device, default: []].insert(label) }
                desired.append(Desired(subject: subject, state: label))
                continue
            }
            if !usedKnown {
                used = labelsInUse(host: hostAddresses, entries: entries, subjects: subjects, earlier: earlier, given: desired)
                usedKnown = true
            }
            var number = next[entry.device] ?? 0
            // Each candidate label built once: the one that is free is the one used.
            var label = pattern.label(number, device: entry.device)
            while used[entry.device, default: []].contains(label) {
                number += 1
                label = pattern.label(number, device: entry.device)
            }
            guard label.utf8.count <= maximumLabelLength else {
                throw SpecError(patternValue.location, "the label '\(label)' for \(entry.address) is longer than \(maximumLabelLength) characters (IFNAMSIZ - 1); use a shorter device name or pattern")
            }
            next[entry.device] = number + 1
            used[entry.device, default: []].insert(label)
            desired.append(Desired(subject: subject, state: label))
        }
        return DesiredStep(name: step.name, kind: AddressDriver.kindName, desired: desired)
    }

    /// Device → labels taken: every label on the host, the previous generation's labels of the wanted
    /// subjects, and the labels `given` so far (to the first `given.count` entries).
    private static func labelsInUse(host: [InterfaceAddress], entries: [Entry], subjects: [String], earlier: [String: String],
                                    given: [Desired]) -> [String: Set<String>] {
        var used: [String: Set<String>] = [:]
        for address in host {
            if let label = address.label { used[address.interface, default: []].insert(label) }
        }
        for (entry, subject) in zip(entries, subjects) {
            if let label = earlier[subject] { used[entry.device, default: []].insert(label) }
        }
        for (entry, desired) in zip(entries, given) where entry.address.family == .v4 {
            if let label = desired.state { used[entry.device, default: []].insert(label) }
        }
        return used
    }
}

/// `lo:{n}` → lo:0, lo:1, …; `{device}:{n}` → eth1:0, eth1:1, …
/// The text around `{n}` is worked out once per device: a run asks about every address.
final class LabelPattern {
    let text: String
    private var parts: [String: (prefix: String, suffix: String)] = [:]
    /// The same, as bytes, for `matches`.
    private var byteParts: [String: (prefix: [UInt8], suffix: [UInt8])] = [:]

    init(_ text: String, location: String) throws {
        guard text.components(separatedBy: "{n}").count == 2 else {
            throw SpecError(location, "the label pattern '\(text)' must contain {n} exactly once, e.g. lo:{n}")
        }
        self.text = text
    }

    private func around(_ device: String) -> (prefix: String, suffix: String) {
        if let known = parts[device] { return known }
        let split = text.replacing("{device}", with: device).components(separatedBy: "{n}")
        let result = (split[0], split[1])
        parts[device] = result
        return result
    }

    func label(_ number: Int, device: String) -> String {
        let (prefix, suffix) = around(device)
        return prefix + String(number) + suffix
    }

    func matches(_ label: String, device: String) -> Bool {
        let (prefix, suffix) = byteParts[device] ?? {
            let (prefix, suffix) = around(device)
            let bytes = (Array(prefix.utf8), Array(suffix.utf8))
            byteParts[device] = bytes
            return bytes
        }()
        // On contiguous bytes, not Characters or UTF-8 views: asked of every address on the host, every run.
        var label = label
        return label.withUTF8 { bytes in
            guard bytes.count > prefix.count + suffix.count, bytes.prefix(prefix.count).elementsEqual(prefix),
                  bytes.suffix(suffix.count).elementsEqual(suffix) else { return false }
            return bytes[prefix.count..<(bytes.count - suffix.count)].allSatisfy { $0 >= 48 && $0 <= 57 }
        }
    }
}

private extension String {
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    func replacing(_ target: String, with replacement: String) -> String { components(separatedBy: target).joined(separator: replacement) }
}
