import Engine
import HostAccess

/// Interface addresses. Subject: `DEVICE ADDRESS/PREFIX` (`lo 192.0.2.10/32`); state: the IPv4 label
/// (`lo:0`), or `present` for IPv6, which has no labels.
public final class AddressDriver: Driver {
    public static let kindName = "address"
    public static let presentWithoutLabel = "present"
    public var kind: String { Self.kindName }
    private let control: AddressControl

    public init(_ control: AddressControl) { self.control = control }

    /// `DEVICE CIDR`, in one allocation: made for every VIP and every address on the host, every run.
    public static func subject(device: String, cidr: String) -> String { subject(device, cidr, prefix: nil) }

    /// The subject of an address on the host (`lo 198.18.0.1/32`), without its cidr text made first.
    static func subject(of address: InterfaceAddress) -> String {
        guard (0...128).contains(address.prefixLength) else { return subject(device: address.interface, cidr: address.cidr) }
        return subject(address.interface, address.address, prefix: address.prefixLength)
    }

    /// `device text`, then `/prefix` when one is given (0-128).
    private static func subject(_ device: String, _ text: String, prefix: Int?) -> String {
        var device = device, text = text
        return device.withUTF8 { name in
            text.withUTF8 { text in
                String(unsafeUninitializedCapacity: name.count + 1 + text.count + 4) { out in
                    _ = out.initialize(fromContentsOf: name)
                    out[name.count] = UInt8(ascii: " ")
                    var count = name.count + 1
                    _ = UnsafeMutableBufferPointer(rebasing: out[count...]).initialize(fromContentsOf: text)
                    count += text.count
                    guard let prefix else { return count }
                    out[count] = UInt8(ascii: "/")
                    count += 1
                    if prefix >= 100 { out[count] = 48 + UInt8(prefix / 100); count += 1 }
                    if prefix >= 10 { out[count] = 48 + UInt8(prefix / 10 % 10); count += 1 }
                    out[count] = 48 + UInt8(prefix % 10)
                    return count + 1
                }
            }
        }
    }

    /// Reads every subject from one address dump.
    public func read(_ subjects: [String]) throws -> [String?] {
        let addresses = try control.addresses()
        var states: [String: String] = [:]
        states.reserveCapacity(addresses.count)
        for address in addresses {
            let state = address.isIPv6 ? Self.presentWithoutLabel : (address.label ?? address.interface)
            states[Self.subject(of: address)] = state
        }
        return subjects.map { states[$0] }
    }

    /// All changes in one batch; a new label is a remove followed by an add.
    public func write(_ changes: [Change]) throws {
        var operations: [AddressOperation] = []
        var owner: [Int] = []   // operation → change
        for (index, change) in changes.enumerated() {
            do {
                if let before = change.before {
                    operations.append(.remove(try Self.address(change.subject, state: before)))
                    owner.append(index)
                }
                if let after = change.after {
                    operations.append(.add(try Self.address(change.subject, state: after)))
                    owner.append(index)
                }
            } catch {
                throw ChangeFailure(change: change, underlying: error)
            }
        }
        do {
            try control.apply(operations)
        } catch let failure as BatchFailure {
            throw ChangeFailure(change: changes[owner[failure.index]], underlying: failure.error)
        }
    }

    public func describe(_ change: Change) -> String {
        // Appended into one String with room made once: a line per change, a thousand per run.
        var text = "address "
        text.reserveCapacity(change.subject.utf8.count + 32)
        if let (device, cidr) = Self.halves(change.subject, at: UInt8(ascii: " ")) {
            text += cidr
            text += " on "
            text += device
        } else {
            text += change.subject
        }
        func label(_ state: String) {
            guard state != Self.presentWithoutLabel else { return }
            text += " (label "
            text += state
            text += ")"
        }
        switch (change.before, change.after) {
        case let (before?, after?):
            text += " label "
            text += before
            text += " → "
            text += after
        case let (nil, after?): label(after)
        case let (before?, nil): label(before)
        case (nil, nil): break
        }
        return text
    }

    static func address(_ subject: String, state: String) throws -> InterfaceAddress {
        guard let (device, cidr) = halves(subject, at: UInt8(ascii: " ")), let (address, prefixText) = halves(cidr, at: UInt8(ascii: "/")),
              let prefix = Int(prefixText) else {
            throw HostError(operation: "reading the journal entry", subject: "address '\(subject)'", errno: 22)
        }
        return InterfaceAddress(interface: device, address: address, prefixLength: prefix,
                                label: state == presentWithoutLabel ? nil : state)
    }

    /// The text before and after the one `separator` in it (both non-empty), found on UTF-8 bytes, not
    /// Characters: a run of a thousand VIPs splits thousands of subjects, and grapheme breaking was
    /// most of what that cost.
    static func halves(_ text: String, at separator: UInt8) -> (String, String)? {
        // On the contiguous bytes: String.UTF8View indices cost more than the split itself.
        var text = text
        return text.withUTF8 { bytes in
            guard let cut = bytes.firstIndex(of: separator), cut != 0, cut + 1 < bytes.count,
                  !bytes[(cut + 1)...].contains(separator) else { return nil }
            return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<cut]), as: UTF8.self),
                    String(decoding: UnsafeBufferPointer(rebasing: bytes[(cut + 1)...]), as: UTF8.self))
        }
    }
}
