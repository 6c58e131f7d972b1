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

/// One username's login record: consecutive failures and any block. The blocking rule is written here, once.
///
/// A pure value: the caller supplies the time of each attempt and whether the password matched, so the rule is tested
/// without sockets or sleeping, and a store can apply it inside a transaction shared by several servers.
public struct LoginState: Hashable, Sendable {
    /// Consecutive failures since the last success or block.
    public var failures: Int
    /// When the current block ends, if the username is or was blocked.
    public var blockedUntil: Timestamp?

    /// Creates a record; the default is a username with no history.
    public init(failures: Int = 0, blockedUntil: Timestamp? = nil) {
        self.failures = failures
        self.blockedUntil = blockedUntil
    }

    /// Whether the record says nothing (no failures, no block) and need not be kept.
    public var isEmpty: Bool { failures == 0 && blockedUntil == nil }

    /// When the block in force at `time` ends, or `nil` when the username is not blocked then.
    public func blockEnd(at time: Timestamp) -> Timestamp? {
        guard let until = blockedUntil, time < until else { return nil }
        return until
    }

    /// Decides one attempt at `time` whose password did (or did not) match, and records it.
    public mutating func attempt(passwordMatches: Bool, at time: Timestamp, policy: LoginPolicy) -> LoginDecision {
        if let until = blockedUntil {
            if time < until { return .blocked(until: until) }
            self = LoginState()  // The block is over: the counter starts again.
        }
        if passwordMatches {
            self = LoginState()
            return .accepted
        }
        failures += 1
        if failures >= policy.maximumFailures {
            let until = time + policy.blockDuration
            self = LoginState(failures: 0, blockedUntil: until)
            return .blockedNow(until: until)
        }
        return .rejected(remainingAttempts: policy.maximumFailures - failures)
    }
}
