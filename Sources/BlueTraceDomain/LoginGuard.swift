/// The assignment's login rules: how many consecutive failures block a username, and for how long.
public struct LoginPolicy: Sendable, Hashable {
    /// Consecutive failures that block a username (the assignment's three).
    public var maximumFailures: Int
    /// Seconds a block lasts (the server's `block_duration` argument).
    public var blockDuration: Int64

    /// Creates a policy.
    public init(maximumFailures: Int = 3, blockDuration: Int64) {
        precondition(maximumFailures >= 1 && blockDuration >= 0)
        self.maximumFailures = maximumFailures
        self.blockDuration = blockDuration
    }
}

/// What the server answers to one login attempt.
public enum LoginDecision: Hashable, Sendable {
    /// The password was right and the account is not blocked.
    case accepted
    /// Wrong password (or unknown user); `remainingAttempts` more failures are allowed before a block.
    case rejected(remainingAttempts: Int)
    /// This failure was the last allowed one: the username is now blocked until `until`.
    case blockedNow(until: Timestamp)
    /// The username is blocked until `until`; the password was not even looked at.
    case blocked(until: Timestamp)
}

/// Counts consecutive login failures per username, across all connections, and blocks as the policy says.
///
/// A pure value: the caller supplies the time of each attempt and whether the password matched, so the rules are
/// tested without sockets or sleeping. Unknown usernames are counted like known ones, so the answers never reveal
/// whether an account exists.
public struct LoginGuard: Sendable {
    private struct Account: Sendable {
        var failures = 0
        var blockedUntil: Timestamp?
    }

    /// The rules applied.
    public let policy: LoginPolicy
    private var accounts: [String: Account] = [:]

    /// Creates a guard with no failures recorded.
    public init(policy: LoginPolicy) {
        self.policy = policy
    }

    /// Whether `user` is blocked at `time`, and until when.
    public func blockEnd(for user: String, at time: Timestamp) -> Timestamp? {
        guard let until = accounts[user]?.blockedUntil, time < until else { return nil }
        return until
    }

    /// Decides one attempt by `user` at `time` whose password did (or did not) match, and records it.
    public mutating func attempt(user: String, passwordMatches: Bool, at time: Timestamp) -> LoginDecision {
        var account = accounts[user] ?? Account()
        if let until = account.blockedUntil {
            if time < until { return .blocked(until: until) }
            account = Account()  // The block is over: the counter starts again.
        }
        if passwordMatches {
            accounts[user] = nil
            return .accepted
        }
        account.failures += 1
        if account.failures >= policy.maximumFailures {
            let until = time + policy.blockDuration
            accounts[user] = Account(failures: 0, blockedUntil: until)
            return .blockedNow(until: until)
        }
        accounts[user] = account
        return .rejected(remainingAttempts: policy.maximumFailures - account.failures)
    }

    /// Forgets blocks that have ended by `time`, so the table does not grow without bound.
    public mutating func forgetExpiredBlocks(at time: Timestamp) {
        accounts = accounts.filter { _, account in
            guard let until = account.blockedUntil else { return true }
            return time < until
        }
    }
}
