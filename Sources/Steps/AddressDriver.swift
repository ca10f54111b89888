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

    public static func subject(device: String, cidr: String) -> String { device + " " + cidr }

    /// Reads every subject from one address dump.
    public func read(_ subjects: [String]) throws -> [String?] {
        let addresses = try control.addresses()
        var states: [String: String] = [:]
        states.reserveCapacity(addresses.count)
        for address in addresses {
            let state = address.isIPv6 ? Self.presentWithoutLabel : (address.label ?? address.interface)
            states[Self.subject(device: address.interface, cidr: address.cidr)] = state
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
        let parts = change.subject.utf8.split(separator: UInt8(ascii: " "), maxSplits: 1).map { String(Substring($0)) }
        let text = parts.count == 2 ? "address " + parts[1] + " on " + parts[0] : "address " + change.subject
        func label(_ state: String) -> String { state == Self.presentWithoutLabel ? "" : " (label \(state))" }
        switch (change.before, change.after) {
        case let (before?, after?): return "\(text) label \(before) → \(after)"
        case let (nil, after?): return text + label(after)
        case let (before?, nil): return text + label(before)
        case (nil, nil): return text
        }
    }

    static func address(_ subject: String, state: String) throws -> InterfaceAddress {
        let parts = split(subject, at: UInt8(ascii: " "))
        let cidr = parts.count == 2 ? split(parts[1], at: UInt8(ascii: "/")) : []
        guard parts.count == 2, cidr.count == 2, let prefix = Int(cidr[1]) else {
            throw HostError(operation: "reading the journal entry", subject: "address '\(subject)'", errno: 22)
        }
        return InterfaceAddress(interface: parts[0], address: cidr[0], prefixLength: prefix,
                                label: state == presentWithoutLabel ? nil : state)
    }

    /// Split on UTF-8 bytes, not Characters, empty parts dropped: a run of a thousand VIPs splits
    /// thousands of subjects, and grapheme breaking was most of what that cost.
    private static func split(_ text: String, at separator: UInt8) -> [String] {
        text.utf8.split(separator: separator).map { String(Substring($0)) }
    }
}
