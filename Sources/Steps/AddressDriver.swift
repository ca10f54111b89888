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
        var states: [String: String] = [:]
        for address in try control.addresses() {
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
        let parts = change.subject.split(separator: " ", maxSplits: 1)
        let text = parts.count == 2 ? "address \(parts[1]) on \(parts[0])" : "address \(change.subject)"
        func label(_ state: String) -> String { state == Self.presentWithoutLabel ? "" : " (label \(state))" }
        switch (change.before, change.after) {
        case let (before?, after?): return "\(text) label \(before) → \(after)"
        case let (nil, after?): return text + label(after)
        case let (before?, nil): return text + label(before)
        case (nil, nil): return text
        }
    }

    static func address(_ subject: String, state: String) throws -> InterfaceAddress {
        let parts = subject.split(separator: " ")
        let cidr = parts.count == 2 ? parts[1].split(separator: "/") : []
        guard parts.count == 2, cidr.count == 2, let prefix = Int(cidr[1]) else {
            throw HostError(operation: "reading the journal entry", subject: "address '\(subject)'", errno: 22)
        }
        return InterfaceAddress(interface: String(parts[0]), address: String(cidr[0]), prefixLength: prefix,
                                label: state == presentWithoutLabel ? nil : state)
    }
}
