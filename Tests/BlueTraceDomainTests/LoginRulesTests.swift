import BlueTraceDomain
import Testing

@Suite("Login rules across users and time")
struct LoginRulesTests {
    static let duration: Int64 = 60
    let clock = ManualWallClock(sampleIssueTime)
    var guardian = LoginRecords(policy: LoginPolicy(blockDuration: LoginRulesTests.duration))

    /// One attempt at the clock's current time.
    mutating func attempt(_ user: String = "+61410999999", right: Bool) -> LoginDecision {
        guardian.attempt(user: user, passwordMatches: right, at: clock.now())
    }

    /// Three wrong passwords at the current time; returns the block's end.
    mutating func block(_ user: String = "+61410999999") -> Timestamp {
        #expect(attempt(user, right: false) == .rejected(remainingAttempts: 2))
        #expect(attempt(user, right: false) == .rejected(remainingAttempts: 1))
        let until = clock.now() + Self.duration
        #expect(attempt(user, right: false) == .blockedNow(until: until))
        return until
    }

    @Test func defaultPolicyIsThreeFailures() {
        let policy = LoginPolicy(blockDuration: 10)
        #expect(policy.maximumFailures == 3)
        #expect(policy.blockDuration == 10)
        #expect(guardian.policy == LoginPolicy(maximumFailures: 3, blockDuration: Self.duration))
    }

    @Test mutating func rightPasswordIsAccepted() {
        #expect(attempt(right: true) == .accepted)
        #expect(attempt(right: true) == .accepted)
    }

    @Test mutating func twoFailuresThenSuccessResetsTheCounter() {
        #expect(attempt(right: false) == .rejected(remainingAttempts: 2))
        clock.advance(by: 5)
        #expect(attempt(right: false) == .rejected(remainingAttempts: 1))
        clock.advance(by: 5)
        #expect(attempt(right: true) == .accepted)
        clock.advance(by: 5)
        // A full three failures are needed again.
        #expect(attempt(right: false) == .rejected(remainingAttempts: 2))
        #expect(attempt(right: false) == .rejected(remainingAttempts: 1))
        #expect(attempt(right: false) == .blockedNow(until: clock.now() + Self.duration))
    }

    @Test mutating func thirdFailureBlocksForTheDuration() {
        let start = clock.now()
        clock.advance(by: 3)
        #expect(attempt(right: false) == .rejected(remainingAttempts: 2))
        clock.advance(by: 4)
        #expect(attempt(right: false) == .rejected(remainingAttempts: 1))
        clock.advance(by: 5)
        // The block runs from the third failure, not the first.
        #expect(attempt(right: false) == .blockedNow(until: start + 12 + Self.duration))
    }

    @Test(arguments: [Int64(0), 1, 30, 59])
    mutating func duringTheBlockEvenTheRightPasswordIsBlocked(after: Int64) {
        let until = block()
        clock.advance(by: after)
        #expect(attempt(right: true) == .blocked(until: until))
        #expect(attempt(right: false) == .blocked(until: until))
        // Blocked attempts neither extend the block nor count as failures.
        #expect(guardian.blockEnd(for: "+61410999999", at: clock.now()) == until)
        clock.set(until)
        #expect(attempt(right: true) == .accepted)
    }

    @Test mutating func atExactlyTheEndTheBlockIsOver() {
        let until = block()
        clock.set(until - 1)
        #expect(attempt(right: true) == .blocked(until: until))
        clock.set(until)
        #expect(attempt(right: true) == .accepted)
    }

    @Test mutating func afterTheBlockThreeNewFailuresAreNeeded() {
        let until = block()
        clock.set(until)
        #expect(attempt(right: false) == .rejected(remainingAttempts: 2))
        clock.advance(by: 100)
        #expect(attempt(right: false) == .rejected(remainingAttempts: 1))
        #expect(attempt(right: false) == .blockedNow(until: clock.now() + Self.duration))
    }

    @Test mutating func blockEndReportsOnlyWhileBlocked() {
        #expect(guardian.blockEnd(for: "alice", at: clock.now()) == nil)
        #expect(attempt("alice", right: false) == .rejected(remainingAttempts: 2))
        #expect(guardian.blockEnd(for: "alice", at: clock.now()) == nil)
        let until = block("bob")
        #expect(guardian.blockEnd(for: "bob", at: clock.now()) == until)
        #expect(guardian.blockEnd(for: "bob", at: until - 1) == until)
        #expect(guardian.blockEnd(for: "bob", at: until) == nil)
        #expect(guardian.blockEnd(for: "alice", at: clock.now()) == nil)
    }

    @Test mutating func unknownUsersAreCountedLikeKnownOnes() {
        let credentials = CredentialsFile(parsing: "+61410999999 bada4568\n+61410888888 comp3331")
        func login(_ user: String, _ password: String) -> LoginDecision {
            guardian.attempt(user: user, passwordMatches: credentials.passwords[user] == password, at: clock.now())
        }
        let known = (0..<4).map { _ in login("+61410999999", "wrong") }
        let unknown = (0..<4).map { _ in login("+61400000000", "bada4568") }
        let until = clock.now() + Self.duration
        let expected: [LoginDecision] = [
            .rejected(remainingAttempts: 2), .rejected(remainingAttempts: 1),
            .blockedNow(until: until), .blocked(until: until),
        ]
        #expect(known == expected)
        #expect(unknown == expected)
        #expect(login("+61410888888", "comp3331") == .accepted)
    }

    @Test mutating func usersAreIndependent() {
        #expect(attempt("alice", right: false) == .rejected(remainingAttempts: 2))
        #expect(attempt("bob", right: false) == .rejected(remainingAttempts: 2))
        #expect(attempt("alice", right: false) == .rejected(remainingAttempts: 1))
        #expect(attempt("bob", right: true) == .accepted)
        let until = clock.now() + Self.duration
        #expect(attempt("alice", right: false) == .blockedNow(until: until))
        #expect(attempt("bob", right: false) == .rejected(remainingAttempts: 2))
        #expect(attempt("bob", right: true) == .accepted)
        #expect(attempt("alice", right: true) == .blocked(until: until))
        // Usernames are case-sensitive.
        #expect(attempt("Alice", right: true) == .accepted)
    }

    @Test mutating func forgettingExpiredBlocksKeepsActiveBlocksAndPendingFailures() {
        let aliceUntil = block("alice")
        clock.advance(by: 10)
        let bobUntil = block("bob")
        #expect(attempt("carol", right: false) == .rejected(remainingAttempts: 2))
        #expect(attempt("carol", right: false) == .rejected(remainingAttempts: 1))

        clock.set(aliceUntil)
        guardian.forgetExpiredBlocks(at: clock.now())
        #expect(guardian.blockEnd(for: "alice", at: clock.now()) == nil)
        #expect(guardian.blockEnd(for: "bob", at: clock.now()) == bobUntil)
        #expect(attempt("bob", right: true) == .blocked(until: bobUntil))
        #expect(attempt("carol", right: false) == .blockedNow(until: clock.now() + Self.duration))
        // Alice starts from nothing.
        #expect(attempt("alice", right: false) == .rejected(remainingAttempts: 2))
    }

    @Test(arguments: [1, 2, 3, 5])
    func maximumFailuresIsConfigurable(maximum: Int) {
        var guardian = LoginRecords(policy: LoginPolicy(maximumFailures: maximum, blockDuration: 10))
        let time = sampleIssueTime
        for failure in 1..<maximum {
            let decision = guardian.attempt(user: "u", passwordMatches: false, at: time)
            #expect(decision == .rejected(remainingAttempts: maximum - failure))
        }
        #expect(guardian.attempt(user: "u", passwordMatches: false, at: time) == .blockedNow(until: time + 10))
        #expect(guardian.attempt(user: "u", passwordMatches: true, at: time + 9) == .blocked(until: time + 10))
        #expect(guardian.attempt(user: "u", passwordMatches: true, at: time + 10) == .accepted)
    }

    @Test func zeroDurationBlocksNothingAfterTheThirdFailure() {
        var guardian = LoginRecords(policy: LoginPolicy(blockDuration: 0))
        let time = sampleIssueTime
        _ = guardian.attempt(user: "u", passwordMatches: false, at: time)
        _ = guardian.attempt(user: "u", passwordMatches: false, at: time)
        #expect(guardian.attempt(user: "u", passwordMatches: false, at: time) == .blockedNow(until: time))
        #expect(guardian.blockEnd(for: "u", at: time) == nil)
        #expect(guardian.attempt(user: "u", passwordMatches: true, at: time) == .accepted)
    }
}

@Suite("LoginState (the rule a shared store applies per username)")
struct LoginStateTests {
    let policy = LoginPolicy(blockDuration: 60)

    @Test func threeFailuresBlockAndTheBlockEndsOnTime() {
        var state = LoginState()
        #expect(state.attempt(passwordMatches: false, at: ts(0), policy: policy) == .rejected(remainingAttempts: 2))
        #expect(state.attempt(passwordMatches: false, at: ts(1), policy: policy) == .rejected(remainingAttempts: 1))
        #expect(state.attempt(passwordMatches: false, at: ts(2), policy: policy) == .blockedNow(until: ts(62)))
        #expect(state == LoginState(failures: 0, blockedUntil: ts(62)))
        #expect(state.blockEnd(at: ts(61)) == ts(62))
        #expect(state.attempt(passwordMatches: true, at: ts(61), policy: policy) == .blocked(until: ts(62)))
        #expect(state.blockEnd(at: ts(62)) == nil)
        #expect(state.attempt(passwordMatches: true, at: ts(62), policy: policy) == .accepted)
        #expect(state.isEmpty)
    }
}

/// Many usernames' login records in memory, as the store keeps them (one `LoginState` per username, dropped when
/// empty): the rule under test is `LoginState.attempt`, applied across users and over time.
struct LoginRecords {
    /// The rules applied.
    let policy: LoginPolicy
    private var states: [String: LoginState] = [:]

    /// Creates a guard with no failures recorded.
    init(policy: LoginPolicy) {
        self.policy = policy
    }

    /// Whether `user` is blocked at `time`, and until when.
    func blockEnd(for user: String, at time: Timestamp) -> Timestamp? {
        states[user]?.blockEnd(at: time)
    }

    /// Decides one attempt by `user` at `time` whose password did (or did not) match, and records it.
    mutating func attempt(user: String, passwordMatches: Bool, at time: Timestamp) -> LoginDecision {
        var state = states[user] ?? LoginState()
        let decision = state.attempt(passwordMatches: passwordMatches, at: time, policy: policy)
        states[user] = state.isEmpty ? nil : state
        return decision
    }

    /// Forgets blocks that have ended by `time`, so the table does not grow without bound.
    mutating func forgetExpiredBlocks(at time: Timestamp) {
        states = states.filter { _, state in
            guard let until = state.blockedUntil else { return true }
            return time < until
        }
    }
}
