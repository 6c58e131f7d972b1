import BlueTraceDomain

/// A health official's account for the console: its own table, never a phone account.
public struct OfficialAccount: Hashable, Sendable {
    /// The official's login name.
    public var name: String
    /// The salted password hash (never the password).
    public var passwordHash: String
    /// When the account was created.
    public var createdAt: Timestamp
    /// Consecutive failed console logins and any lockout.
    public var loginState: LoginState

    /// Creates an official's account value.
    public init(name: String, passwordHash: String, createdAt: Timestamp, loginState: LoginState = LoginState()) {
        self.name = name
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.loginState = loginState
    }
}
