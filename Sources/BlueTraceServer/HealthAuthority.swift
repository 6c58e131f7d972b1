import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import BlueTraceWire
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

    /// Opens the store (`store` if given, else the configured SQLite database), imports credentials.txt and
    /// tempIDs.txt (idempotently), and loads the key file when the sealed scheme is used. Malformed lines are logged
    /// with their line number and skipped. `observers` learn every event.
    public static func open(
        configuration: ServerConfiguration,
        store givenStore: (any AuthorityStore)? = nil,
        clock: any WallClock = SystemWallClock(),
        observers: [any AuthorityObserver] = [],
        logger: Logger
    ) async throws -> HealthAuthority {
        let store: any AuthorityStore =
            try givenStore
            ?? configuration.databasePath.map { $0 == ":memory:" ? try SQLiteStore() : try SQLiteStore(path: $0) }
            ?? SQLiteStore()
        let now = clock.now()
        let keys: KeyRingHolder?
        if configuration.tempIDScheme == .sealed, let path = configuration.keyFilePath {
            let (ring, created) = try KeyFile.loadOrCreate(path: path, now: now)
            if created { logger.notice("created the server key file", metadata: ["path": "\(path)"]) }
            keys = KeyRingHolder(ring: ring, path: path)
        } else if configuration.tempIDScheme == .sealed {
            keys = KeyRingHolder(ring: KeyRing.generate(at: now), path: nil)
        } else {
            keys = nil
        }
        let hasher = PasswordHasher(parameters: configuration.passwordParameters)
        let authority = HealthAuthority(
            store: store, hasher: hasher,
            dummyHash: try await NIOThreadPool.singleton.runIfActive { try hasher.hash("not a password") },
            loginPolicy: LoginPolicy(blockDuration: configuration.blockDuration),
            issuer: TempIDIssuer(
                scheme: configuration.tempIDScheme, policy: TempIDPolicy(lifetime: configuration.tempIDLifetime),
                sealedBatchSize: configuration.sealedBatchSize, store: store, keys: keys,
                journal: try configuration.tempIDsPath.map { try TempIDJournal(path: $0) }, clock: clock,
                format: configuration.timeFormat),
            retentionDays: configuration.retentionDays, clock: clock, format: configuration.timeFormat,
            observers: observers, logger: logger)
        if let path = configuration.credentialsPath { try await authority.importCredentials(from: path) }
        if let path = configuration.tempIDsPath { try await authority.importTempIDs(from: path) }
        return authority
    }

    private init(
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

    private func importCredentials(from path: String) async throws {
        let text: String?
        do {
            text = try TextFile.readAll(path)
        } catch {
            throw ServerStartupError.credentialsUnreadable(path: path, reason: error.description)
        }
        guard let text else {
            logger.warning(
                "no credentials file; only accounts already in the database (or registered) can log in",
                metadata: ["path": "\(path)"])
            return
        }
        let credentials = CredentialsFile(parsing: text)
        for problem in credentials.problems {
            logger.warning(
                "skipped a credentials line",
                metadata: ["file": "\(path)", "line": "\(problem.line)", "reason": "\(problem.reason)"])
        }
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
        logger.info(
            "imported credentials",
            metadata: ["file": "\(path)", "created": "\(created)", "updated": "\(updated)"])
    }

    private func importTempIDs(from path: String) async throws {
        let text: String?
        do {
            text = try TextFile.readAll(path)
        } catch {
            throw ServerStartupError.tempIDsUnusable(path: path, reason: error.description)
        }
        guard let text else { return }
        let file = TempIDFile(parsing: text, format: format)
        for problem in file.problems {
            logger.warning(
                "skipped a TempID line",
                metadata: ["file": "\(path)", "line": "\(problem.line)", "reason": "\(problem.reason)"])
        }
        let added = try await store.importTempIDs(file.grants.filter(\.tempID.isDecimal), at: clock.now())
        logger.info("imported TempIDs", metadata: ["file": "\(path)", "new": "\(added)"])
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
        var tempIDs: [TempID] = []
        for case .encounter(let encounter) in entries { tempIDs.append(encounter.tempID) }
        let lookups = try await issuer.lookUp(tempIDs)

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
        _ = try await store.recordUpload(UploadRecord(uploader: user, receivedAt: receivedAt, encounters: stored))
        let receipt = UploadReceipt(received: entries.count, matched: traced.count, unmatched: unmatched)
        report(.uploadTraced(TracedUpload(uploader: user, entries: entries, traced: traced, receipt: receipt)))
        logger.info(
            "traced upload",
            metadata: ["user": "\(user)", "received": "\(entries.count)", "matched": "\(traced.count)"])
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
