import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Logging
import NIOCore
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
    private let uploadCodes: UploadCodeSettings?
    private let closeContactRule: CloseContactRule?

    /// Makes the core over `store`; the composition root (`ServerApplication`) chooses every part.
    package init(
        store: any AuthorityStore, hasher: PasswordHasher, dummyHash: String, loginPolicy: LoginPolicy,
        issuer: TempIDIssuer, retentionDays: Int, clock: any WallClock, format: TimestampFormat,
        observers: [any AuthorityObserver], logger: Logger, uploadCodes: UploadCodeSettings? = nil,
        exposureNotices closeContactRule: CloseContactRule? = nil
    ) {
        self.uploadCodes = uploadCodes
        self.closeContactRule = closeContactRule
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
        // Judged in a function of its own, so that the lookups are let go before the record is stored.
        let (upload, unmatched, lookedUp) = try await judge(entries, from: user, receivedAt: receivedAt)
        let judged = ContinuousClock.now
        // The upload and its line in the audit trail are committed together: neither is ever found without the other.
        let audit = AuditEntry(
            at: receivedAt, actor: user, action: .upload,
            detail:
                "received \(entries.count) \(entries.count == 1 ? "entry" : "entries"), traced \(upload.matchedCount)")
        _ = try await store.recordUpload(upload, audit: [audit])
        let receipt = UploadReceipt(received: entries.count, matched: upload.matchedCount, unmatched: unmatched)
        report(.uploadTraced(TracedUpload(entries: entries, record: upload, receipt: receipt)))
        if let closeContactRule { try await notifyCloseContacts(of: upload, by: closeContactRule) }
        logger.info(
            "traced upload",
            metadata: [
                "user": "\(user)", "received": "\(entries.count)", "matched": "\(upload.matchedCount)",
                "lookup": "\(lookedUp - started)", "judge": "\(judged - lookedUp)",
                "store": "\(ContinuousClock.now - judged)",
            ])
        return receipt
    }

    /// Uploads of at least this many entries are judged in parts side by side, one per core.
    static let entriesJudgedInParts = 65_536

    /// Looks up the TempIDs of `entries` and judges each entry, writing it into the record of the upload at once (no
    /// entry is held twice over); returns the record, the entries that did not trace, and when the lookups were done.
    /// A large upload is judged in parts, one per core, each part's record then joined to the one before. (Looking
    /// each part up on its own as well overlapped the lookups with judging, but made storing the upload slower by more
    /// than it saved: docs/BENCHMARKS.md, round 8.)
    private func judge(
        _ entries: [UploadEntry], from user: String, receivedAt: Timestamp
    ) async throws -> (UploadRecord, [UnmatchedEntry], ContinuousClock.Instant) {
        let partCount = entries.count < Self.entriesJudgedInParts ? 1 : max(1, System.coreCount)
        let partSize = max(1, (entries.count + partCount - 1) / partCount)
        var tempIDs: [TempID] = []
        tempIDs.reserveCapacity(entries.count)
        // The number of the first encounter of each part (the lookups answer encounters, not malformed entries).
        var firstEncounters: [Int] = []
        for (index, entry) in entries.enumerated() {
            if index % partSize == 0 { firstEncounters.append(tempIDs.count) }
            if case .encounter(let encounter) = entry { tempIDs.append(encounter.tempID) }
        }
        let lookups = try await issuer.lookUp(tempIDs)
        tempIDs = []
        let lookedUp = ContinuousClock.now

        guard firstEncounters.count > 1 else {
            var record = UploadRecord.Builder(uploader: user, receivedAt: receivedAt, expectedEntries: entries.count)
            let unmatched = Self.judge(entries[...], firstEncounter: 0, lookups: lookups, into: &record)
            return (record.finish(), unmatched, lookedUp)
        }
        let count = entries.count
        var parts = await withTaskGroup(of: JudgedPart.self) { group in
            for (number, firstEncounter) in firstEncounters.enumerated() {
                group.addTask {
                    let range = number * partSize..<min((number + 1) * partSize, count)
                    var record = UploadRecord.Builder(
                        uploader: user, receivedAt: receivedAt, expectedEntries: range.count, isPart: number > 0)
                    let unmatched = Self.judge(
                        entries[range], firstEncounter: firstEncounter, lookups: lookups, into: &record)
                    record.sortTempIDs()
                    return JudgedPart(number: number, record: record, unmatched: unmatched)
                }
            }
            var parts: [JudgedPart] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.number < $1.number }
        }
        var first = parts.removeFirst()
        for part in parts {
            first.record.append(contentsOf: part.record)
            first.unmatched.append(contentsOf: part.unmatched)
        }
        return (first.record.finish(), first.unmatched, lookedUp)
    }

    /// A part of a large upload, judged: its record (to join to the one before) and its entries that did not trace.
    private struct JudgedPart: Sendable {
        var number: Int
        var record: UploadRecord.Builder
        var unmatched: [UnmatchedEntry]
    }

    /// Judges `entries` (a slice of an upload, its indices the upload's), whose first encounter is number
    /// `firstEncounter` of the upload's, writing each into `record`; returns those that did not trace.
    private static func judge(
        _ entries: ArraySlice<UploadEntry>, firstEncounter: Int, lookups: TempIDLookups,
        into record: inout UploadRecord.Builder
    ) -> [UnmatchedEntry] {
        var unmatched: [UnmatchedEntry] = []
        // The lookups answer the encounters in order: the n-th encounter's is `lookups[n]`.
        var encounterNumber = firstEncounter
        for (index, entry) in zip(entries.indices, entries) {
            switch entry {
            case .malformed(let tempID, let reason):
                unmatched.append(UnmatchedEntry(index: index, tempID: tempID, reason: .malformed, detail: reason))
                record.append(
                    StoredEncounter(
                        tempID: tempID, validity: nil, heardAt: nil, contact: nil, unmatchedReason: .malformed,
                        detail: reason))
            case .encounter(let encounter):
                let verdict = ContactTracer.verdict(
                    for: encounter, lookup: lookups[encounterNumber],
                    judgingEncounterTime: !encounter.tempID.isDecimal)
                encounterNumber += 1
                switch verdict {
                case .traced(let grant):
                    record.append(
                        StoredEncounter(
                            tempID: encounter.tempID, validity: encounter.validity, heardAt: encounter.receivedAt,
                            contact: grant.user, unmatchedReason: nil))
                case .unmatched(let reason):
                    unmatched.append(UnmatchedEntry(index: index, tempID: encounter.tempID.rawValue, reason: reason))
                    record.append(
                        StoredEncounter(
                            tempID: encounter.tempID, validity: encounter.validity, heardAt: encounter.receivedAt,
                            contact: nil, unmatchedReason: reason))
                }
            }
        }
        return unmatched
    }

    /// Closes the store once the server using this authority has stopped.
    public func close() async {
        await store.close()
    }

    // MARK: Exposure notices

    /// Whether close contacts of a traced upload are sent exposure notices.
    public var sendsExposureNotices: Bool { closeContactRule != nil }

    /// Stores a notice for every close contact of `upload` (never the uploader), records it in the audit trail and
    /// reports it, so a server can push it to a phone that is logged in; the others get it at their next login.
    private func notifyCloseContacts(of upload: UploadRecord, by rule: CloseContactRule) async throws {
        let close = upload.tracedContacts.filter {
            $0.phone != upload.uploader && rule.isCloseContact(encounters: $0.encounters)
        }
        guard !close.isEmpty else { return }
        let notices = try await store.recordNotices(
            close.map { ($0.phone, $0.lastEncounter) }, at: upload.receivedAt)
        try await store.recordAudit(
            notices.map {
                AuditEntry(
                    at: $0.createdAt, actor: "server", action: .noticeSent, subject: $0.phone,
                    detail: "notice \($0.id), last encounter \(format.string(from: $0.lastEncounter))")
            })
        report(.exposureNoticesSent(notices))
        logger.info("sent exposure notices", metadata: ["count": "\(notices.count)"])
    }

    /// The notices `user` has not acknowledged yet, oldest first (delivered at each login until acknowledged).
    public func pendingNotices(for user: String) async throws -> [ExposureNotice] {
        guard closeContactRule != nil else { return [] }
        return try await store.pendingNotices(for: user)
    }

    /// Records that `user`'s phone showed notice `id`; `false` when it is not a pending notice of theirs.
    public func acknowledgeNotice(_ id: Int64, by user: String) async throws -> Bool {
        let now = clock.now()
        guard try await store.markNoticeDelivered(id: id, to: user, at: now) else { return false }
        try await store.recordAudit([
            AuditEntry(at: now, actor: user, action: .noticeDelivered, subject: user, detail: "notice \(id)")
        ])
        report(.exposureNoticeDelivered(phone: user, id: id))
        return true
    }

    // MARK: Upload codes

    /// Whether an upload needs a one-time code from a health official.
    public var requiresUploadCode: Bool { uploadCodes?.required ?? false }

    /// Issues a one-time upload code to `phone` (an account), valid for `lifetime` seconds (the policy's 15 minutes
    /// by default), and records it in the audit trail as issued by `official`. The code is returned once: the store
    /// keeps only its MAC.
    public func issueUploadCode(
        to phone: String, lifetime: Int64? = nil, by official: String
    ) async throws -> (code: String, expiresAt: Timestamp) {
        guard let uploadCodes else { throw UploadCodeError.notConfigured }
        guard try await store.account(named: phone) != nil else { throw UploadCodeError.unknownPhone(phone) }
        let lifetime = lifetime ?? uploadCodes.policy.lifetime
        guard lifetime >= 1 else { throw UploadCodeError.invalidLifetime(lifetime) }
        let now = clock.now()
        let (code, pending) = UploadCodeAuthenticator(keyRing: uploadCodes.keys.ring, policy: uploadCodes.policy)
            .issue(for: phone, at: now, lifetime: lifetime)
        try await store.updateUploadCodes(for: phone, at: now) { ledger in
            ledger.dropExpired(at: now)
            ledger.issue(pending)
        }
        try await store.recordAudit([
            AuditEntry(
                at: now, actor: official, action: .codeIssued, subject: phone,
                detail: "valid until \(format.string(from: pending.expiresAt))")
        ])
        report(.uploadCodeIssued(phone: phone, expiresAt: pending.expiresAt))
        logger.info("issued an upload code", metadata: ["phone": "\(phone)", "official": "\(official)"])
        return (code, pending.expiresAt)
    }

    /// Checks `code`, typed on `phone`, against the phone's pending codes and uses it up if it is valid; every
    /// attempt is recorded in the audit trail (never the code).
    public func redeemUploadCode(_ code: String, for phone: String) async throws -> UploadCodeDecision {
        guard let uploadCodes else { throw UploadCodeError.notConfigured }
        let now = clock.now()
        // The code may have been issued by another instance under a key added to the shared file since.
        _ = try? uploadCodes.keys.refresh()
        let authenticator = UploadCodeAuthenticator(keyRing: uploadCodes.keys.ring, policy: uploadCodes.policy)
        let policy = uploadCodes.policy
        let decision = try await store.updateUploadCodes(for: phone, at: now) { ledger in
            ledger.redeem(at: now, policy: policy) { authenticator.matches(code, phone: phone, $0) }
        }
        try await store.recordAudit([
            AuditEntry(
                at: now, actor: phone, action: decision.isAccepted ? .codeRedeemed : .codeRefused, subject: phone,
                detail: Self.auditDetail(decision))
        ])
        report(.uploadCodeTried(phone: phone, decision: decision))
        logger.info("upload code tried", metadata: ["phone": "\(phone)", "decision": "\(decision)"])
        return decision
    }

    private static func auditDetail(_ decision: UploadCodeDecision) -> String {
        switch decision {
        case .accepted: "accepted"
        case .wrong(let remaining): "wrong code (\(remaining) more allowed)"
        case .expired: "expired code"
        case .voided: "wrong code: the phone's codes are void"
        case .noCode: "no pending code"
        }
    }

    /// The audit trail, oldest first, from `since` on (for the health official).
    public func auditTrail(since: Timestamp? = nil) async throws -> [AuditEntry] {
        try await store.auditTrail(since: since)
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

    // MARK: Server keys

    /// Re-reads the server key file if it changed (another instance or `bluetrace keys rotate` wrote it), so new
    /// TempIDs and codes are made under its current key; returns whether the keys in use changed.
    @discardableResult
    public func refreshServerKeys() throws -> Bool {
        guard let keys = issuer.keys ?? uploadCodes?.keys else { return false }
        switch try keys.refresh() {
        case .unchanged:
            return false
        case .reloaded(let current, let count):
            logger.notice("server keys reloaded", metadata: ["current": "\(current)", "keys": "\(count)"])
            return true
        case .restored:
            logger.warning(
                "the server key file had gone; written back from memory", metadata: ["path": "\(keys.path ?? "")"])
            return false
        }
    }

    // MARK: Retention

    /// Deletes what is older than the retention period, and server keys no TempID in retention can need.
    @discardableResult
    public func enforceRetention() async throws -> RetentionReport {
        let now = clock.now()
        let retention = Int64(retentionDays) * 86_400
        let report = try await store.deleteData(olderThan: now - retention)
        if let keys = issuer.keys ?? uploadCodes?.keys {
            try refreshServerKeys()
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

/// How the core handles one-time upload codes: the key ring that authenticates them, their rules, and whether an
/// upload needs one.
package struct UploadCodeSettings: Sendable {
    let keys: KeyRingHolder
    let policy: UploadCodePolicy
    let required: Bool

    package init(keys: KeyRingHolder, policy: UploadCodePolicy, required: Bool) {
        self.keys = keys
        self.policy = policy
        self.required = required
    }
}

/// Why an upload code could not be issued or checked; says what to do.
public enum UploadCodeError: Error, Equatable, CustomStringConvertible {
    /// The authority was opened without the server key file that authenticates codes.
    case notConfigured
    /// No account has that phone number.
    case unknownPhone(String)
    /// A lifetime below one second.
    case invalidLifetime(Int64)

    public var description: String {
        switch self {
        case .notConfigured:
            "upload codes are not enabled here: start the server with --require-upload-code (codes are made and "
                + "checked under its key file, bluetrace-keys.json or --key-file PATH)"
        case .unknownPhone(let phone):
            "there is no account \(phone): a code can only be issued to a registered phone number"
        case .invalidLifetime(let seconds):
            "a code must be valid for at least one second (got \(seconds)): give --valid like 15m, 1h or 90s"
        }
    }
}
