import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Logging
import NIOPosix
import Synchronization

/// The health authority: accounts and logins, TempIDs, contact tracing and retention, over a durable store.
///
/// Holds no mutable state of its own: everything lives in the `AuthorityStore` (so several servers could share one
/// database), and the rules are the domain's (`LoginState`, `TempIDPolicy`, `ContactTracer`, `RegistrationRules`).
/// What it does is reported to its observers as `AuthorityEvent`s (the terminal transcript is one of them).
/// Password hashing runs on NIO's thread pool, bounded by its threads, never on an event loop.
public final class HealthAuthority: Sendable {
    private let store: any AuthorityStore
    private let hasher: PasswordHasher
    private let dummyHash: String
    private let loginPolicy: LoginPolicy
    private let issuer: TempIDIssuer
    private let retentionDays: Int
    private let clock: any WallClock
    private let format: TimestampFormat
    private let observers: [any AuthorityObserver]
    private let logger: Logger

    /// Makes the core over `store`; the composition root (`ServerApplication`) chooses every part.
    package init(
        store: any AuthorityStore, hasher: PasswordHasher, dummyHash: String, loginPolicy: LoginPolicy,
        issuer: TempIDIssuer, retentionDays: Int, clock: any WallClock, format: TimestampFormat,
        observers: [any AuthorityObserver], logger: Logger
    ) {
        self.store = store
        self.hasher = hasher
        self.dummyHash = dummyHash
        self.loginPolicy = loginPolicy
        self.issuer = issuer
        self.retentionDays = retentionDays
        self.clock = clock
        self.format = format
        self.observers = observers
        self.logger = logger
    }

    /// Tells every observer what happened; builds the event only when someone listens.
    private func report(_ event: @autoclosure () -> AuthorityEvent) {
        guard !observers.isEmpty else { return }
        let event = event()
        for observer in observers { observer.observe(event) }
    }

    // MARK: Start-up imports

    /// Makes sure every account of credentials.txt exists with its password (new accounts are created, changed
    /// passwords and weaker hashes replaced, the rest left alone); returns how many were created and updated.
    package func importAccounts(_ credentials: CredentialsFile) async throws -> (created: Int, updated: Int) {
        let now = clock.now()
        var created = 0
        var updated = 0
        for username in credentials.usernames {
            let password = credentials.passwords[username]!
            if let account = try await store.account(named: username) {
                let hash = account.passwordHash
                let current = await offloaded { [hasher] in
                    hasher.verify(password, against: hash) && !hasher.needsRehash(hash)
                }
                guard !current else { continue }
                let fresh = try await offloaded { [hasher] in try hasher.hash(password) }
                try await store.updatePasswordHash(username: username, passwordHash: fresh, at: now)
                updated += 1
            } else {
                let hash = try await offloaded { [hasher] in try hasher.hash(password) }
                if try await store.createAccount(username: username, passwordHash: hash, at: now) { created += 1 }
            }
        }
        return (created, updated)
    }

    /// Records TempIDs read from tempIDs.txt (20-digit ones; sealed ones carry their own mapping); returns how many
    /// were new.
    package func importTempIDs(_ grants: [TempIDGrant]) async throws -> Int {
        try await store.importTempIDs(grants.filter(\.tempID.isDecimal), at: clock.now())
    }

    // MARK: Accounts

    /// Decides a login attempt. Unknown usernames get the same answers (and the same hashing work) as wrong passwords.
    public func login(username: String, password: String) async throws -> LoginDecision {
        let now = clock.now()
        if let until = try await store.loginState(for: username).blockEnd(at: now) {
            logger.info("login refused: blocked", metadata: ["user": "\(username)"])
            report(.loginRefused(user: username, blockedUntil: until))
            return .blocked(until: until)
        }
        let account = try await store.account(named: username)
        let hash = account?.passwordHash ?? dummyHash
        let verified = await offloaded { [hasher] in hasher.verify(password, against: hash) }
        let matches = verified && account != nil
        let policy = loginPolicy
        let decision = try await store.updateLoginState(for: username, at: now) {
            $0.attempt(passwordMatches: matches, at: now, policy: policy)
        }
        switch decision {
        case .accepted:
            logger.info("login", metadata: ["user": "\(username)"])
            report(.loginAccepted(user: username))
        case .blockedNow(let until):
            logger.notice(
                "user blocked after repeated login failures",
                metadata: ["user": "\(username)", "until": "\(format.string(from: until))"])
            report(.userBlocked(user: username, until: until))
        case .rejected:
            logger.info("login refused", metadata: ["user": "\(username)"])
            report(.loginRefused(user: username, blockedUntil: nil))
        case .blocked(let until):
            logger.info("login refused", metadata: ["user": "\(username)"])
            report(.loginRefused(user: username, blockedUntil: until))
        }
        return decision
    }

    /// The outcome of a registration.
    public enum Registration: Hashable, Sendable {
        /// The account was created.
        case created
        /// The username is taken.
        case taken
        /// The username or password breaks the rules; the text says which.
        case refused(String)
    }

    /// Creates an account if the rules allow and the username is free.
    public func register(username: String, password: String) async throws -> Registration {
        if let problem = RegistrationRules.problem(username: username, password: password) {
            return .refused(problem)
        }
        guard try await store.account(named: username) == nil else { return .taken }
        let hash = try await offloaded { [hasher] in try hasher.hash(password) }
        guard try await store.createAccount(username: username, passwordHash: hash, at: clock.now()) else {
            return .taken
        }
        report(.registered(user: username))
        logger.info("registered", metadata: ["user": "\(username)"])
        return .created
    }

    // MARK: TempIDs

    /// Issues TempIDs to `user` (one, or a sealed batch), records them in the store and tempIDs.txt, and reports
    /// them. `completion` runs once, on any thread, when they are committed: the server answers from there without a
    /// task. Concurrent requests are committed together (`TempIDIssuer`).
    public func issueTempIDs(
        to user: String, completion: @escaping @Sendable (Result<[TempIDGrant], any Error>) -> Void
    ) {
        issuer.issue(to: user) { [self] result in
            if case .success(let grants) = result { report(.tempIDsIssued(user: user, grants: grants)) }
            completion(result)
        }
    }

    /// Issues TempIDs to `user` and returns them once committed.
    public func issueTempIDs(to user: String) async throws -> [TempIDGrant] {
        try await withCheckedThrowingContinuation { continuation in
            issueTempIDs(to: user) { continuation.resume(with: $0) }
        }
    }

    // MARK: Tracing

    /// Traces the contact log `user` uploaded, stores it with every verdict, then reports the trace and returns the
    /// receipt. Nothing is acknowledged before it is committed.
    public func traceUpload(from user: String, entries: [UploadEntry]) async throws -> UploadReceipt {
        let receivedAt = clock.now()
        let started = ContinuousClock.now
        var tempIDs: [TempID] = []
        for case .encounter(let encounter) in entries { tempIDs.append(encounter.tempID) }
        let lookups = try await issuer.lookUp(tempIDs)
        let lookedUp = ContinuousClock.now

        var stored: [StoredEncounter] = []
        stored.reserveCapacity(entries.count)
        var traced: [TempIDGrant] = []
        var unmatched: [UnmatchedEntry] = []
        for (index, entry) in entries.enumerated() {
            switch entry {
            case .malformed(let tempID, let reason):
                unmatched.append(UnmatchedEntry(index: index, tempID: tempID, reason: .malformed, detail: reason))
                stored.append(
                    StoredEncounter(
                        tempID: tempID, validity: nil, heardAt: nil, contact: nil, unmatchedReason: .malformed,
                        detail: reason))
            case .encounter(let encounter):
                let verdict = ContactTracer.verdict(
                    for: encounter, lookup: lookups[encounter.tempID],
                    judgingEncounterTime: !encounter.tempID.isDecimal)
                switch verdict {
                case .traced(let grant):
                    traced.append(grant)
                    stored.append(
                        StoredEncounter(
                            tempID: encounter.tempID.rawValue, validity: encounter.validity,
                            heardAt: encounter.receivedAt, contact: grant.user, unmatchedReason: nil))
                case .unmatched(let reason):
                    unmatched.append(UnmatchedEntry(index: index, tempID: encounter.tempID.rawValue, reason: reason))
                    stored.append(
                        StoredEncounter(
                            tempID: encounter.tempID.rawValue, validity: encounter.validity,
                            heardAt: encounter.receivedAt, contact: nil, unmatchedReason: reason))
                }
            }
        }
        let judged = ContinuousClock.now
        _ = try await store.recordUpload(UploadRecord(uploader: user, receivedAt: receivedAt, encounters: stored))
        let receipt = UploadReceipt(received: entries.count, matched: traced.count, unmatched: unmatched)
        report(.uploadTraced(TracedUpload(uploader: user, entries: entries, traced: traced, receipt: receipt)))
        logger.info(
            "traced upload",
            metadata: [
                "user": "\(user)", "received": "\(entries.count)", "matched": "\(traced.count)",
                "lookup": "\(lookedUp - started)", "judge": "\(judged - lookedUp)",
                "store": "\(ContinuousClock.now - judged)",
            ])
        return receipt
    }

    /// The people traced from the uploads of `uploader`, one row per contact (for the health official).
    public func tracedContacts(of uploader: String) async throws -> [TracedContact] {
        try await store.tracedContacts(of: uploader)
    }

    /// Records that `user` logged out, and reports it.
    public func logout(_ user: String) {
        report(.loggedOut(user: user))
        logger.info("logout", metadata: ["user": "\(user)"])
    }

    // MARK: Retention

    /// Deletes what is older than the retention period, and server keys no TempID in retention can need.
    @discardableResult
    public func enforceRetention() async throws -> RetentionReport {
        let now = clock.now()
        let retention = Int64(retentionDays) * 86_400
        let report = try await store.deleteData(olderThan: now - retention)
        if let keys = issuer.keys {
            _ = try keys.reload(now: now)
            let newestTempIDExpiry = issuer.policy.lifetime * Int64(issuer.sealedBatchSize)
            let dropped = try keys.prune(retiredBefore: now - (retention + newestTempIDExpiry))
            if dropped > 0 { logger.notice("dropped retired server keys", metadata: ["count": "\(dropped)"]) }
        }
        logger.info(
            "retention",
            metadata: [
                "uploads": "\(report.uploads)", "encounters": "\(report.encounters)", "tempIDs": "\(report.tempIDs)",
            ])
        return report
    }

    /// Runs password hashing `work` on NIO's blocking-work thread pool, off the event loops and the cooperative
    /// pool; hashes so cheap that the hop would cost more (simulation parameters) run right here.
    private func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        if hasher.parameters.logRounds <= Self.inlineHashingLogRounds { return try work() }
        return try await NIOThreadPool.singleton.runIfActive(work)
    }

    private func offloaded<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        if hasher.parameters.logRounds <= Self.inlineHashingLogRounds { return work() }
        // The singleton pool is never shut down, so `runIfActive` only fails if it was; then run here.
        return (try? await NIOThreadPool.singleton.runIfActive(work)) ?? work()
    }

    /// scrypt with N ≤ 2^4 takes microseconds: not worth a thread hop.
    private static let inlineHashingLogRounds = 4
}
