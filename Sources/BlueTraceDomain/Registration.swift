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
