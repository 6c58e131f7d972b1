/// Who may register, and with what password: the one place the registration rules are written down.
public enum RegistrationRules {
    /// The shortest password accepted.
    public static let minimumPasswordLength = 8

    /// Why a registration is refused, in words the user can act on; `nil` when it is acceptable.
    public static func problem(username: String, password: String) -> String? {
        if !isPhoneNumber(username) {
            return "The username must be an international phone number: + followed by 8 to 15 digits, "
                + "e.g. +61410777777."
        }
        if password.count < minimumPasswordLength {
            return "The password must be at least \(minimumPasswordLength) characters long."
        }
        return nil
    }

    /// Whether `text` is `+` followed by 8 to 15 ASCII digits.
    public static func isPhoneNumber(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.first == UInt8(ascii: "+"), (9...16).contains(utf8.count) else { return false }
        return utf8.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// How the server makes TempIDs.
public enum TempIDScheme: String, Hashable, Sendable, CaseIterable, Codable {
    /// The assignment's 20 random decimal digits, mapped to users in a table (the default).
    case decimal
    /// OpenTrace-style AES-256-GCM sealed boxes of (user, start, expiry): only the server can read them.
    case sealed
}

/// The TempIDs a phone holds: one downloaded ID, or a batch covering the next hours, used in turn.
public struct TempIDWallet: Sendable {
    /// The TempIDs held, in order of validity.
    public private(set) var grants: [(tempID: TempID, validity: ValidityWindow)] = []
    /// Whether the wallet was last filled with a batch (and so should be renewed automatically when it runs out).
    public private(set) var holdsBatch = false

    /// Creates an empty wallet.
    public init() {}

    /// Replaces the wallet's TempIDs with `grants`.
    public mutating func fill(with grants: [(tempID: TempID, validity: ValidityWindow)]) {
        self.grants = grants.sorted { $0.validity.start < $1.validity.start }
        holdsBatch = grants.count > 1
    }

    /// The TempID to broadcast at `time`: the one valid then, or else the latest one (expired or not yet valid), so
    /// that an expired ID can still be sent and seen to be invalid.
    public func tempID(at time: Timestamp) -> (tempID: TempID, validity: ValidityWindow, isValid: Bool)? {
        if let valid = grants.last(where: { $0.validity.contains(time) }) {
            return (valid.tempID, valid.validity, true)
        }
        return grants.last.map { ($0.tempID, $0.validity, false) }
    }

    /// The TempID valid at `time`, discarding those that expired before it (time only moves forward), or `nil`.
    /// Amortised constant time, for phones that ask every beacon interval.
    public mutating func current(at time: Timestamp) -> (tempID: TempID, validity: ValidityWindow)? {
        var expired = 0
        while expired < grants.count, grants[expired].validity.expiry < time { expired += 1 }
        if expired > 0 { grants.removeFirst(expired) }
        guard let first = grants.first, first.validity.contains(time) else { return nil }
        return first
    }

    /// Whether a batch has run out at `time`: no TempID valid now or later.
    public func needsRenewal(at time: Timestamp) -> Bool {
        holdsBatch && !grants.contains { $0.validity.expiry >= time }
    }
}
