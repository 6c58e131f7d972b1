import BlueTraceDomain
import BlueTraceStore
import NIOCore

/// A store that times the commits of another for the metrics (`bluetrace_store_commit_duration_seconds`): every
/// write is passed through unchanged, with the clock read before and after. Reads are passed through untimed.
public struct TimedStore: AuthorityStore {
    /// The store that does the work.
    public let inner: any AuthorityStore
    private let metrics: OperationsMetrics

    /// Times the writes of `inner` into `metrics`.
    public init(_ inner: any AuthorityStore, metrics: OperationsMetrics) {
        self.inner = inner
        self.metrics = metrics
    }

    private func timed<Result>(_ commit: StoreCommit, _ body: () async throws -> Result) async rethrows -> Result {
        let started = NIODeadline.now()
        defer { metrics.committed(commit, nanoseconds: (NIODeadline.now() - started).nanoseconds) }
        return try await body()
    }

    public func account(named username: String) async throws -> Account? { try await inner.account(named: username) }

    public func createAccount(username: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        try await timed(.account) {
            try await inner.createAccount(username: username, passwordHash: passwordHash, at: time)
        }
    }

    public func updatePasswordHash(username: String, passwordHash: String, at time: Timestamp) async throws {
        try await timed(.account) {
            try await inner.updatePasswordHash(username: username, passwordHash: passwordHash, at: time)
        }
    }

    public func loginState(for username: String) async throws -> LoginState {
        try await inner.loginState(for: username)
    }

    public func updateLoginState<Result: Sendable>(
        for username: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result {
        try await timed(.loginState) { try await inner.updateLoginState(for: username, at: time, change) }
    }

    public func recordTempIDs(
        _ grants: [TempIDGrant], issuedAt time: Timestamp,
        completion: @escaping @Sendable (Result<[Bool], any Error>) -> Void
    ) {
        let started = NIODeadline.now()
        inner.recordTempIDs(grants, issuedAt: time) { [metrics] result in
            metrics.committed(.tempIDs, nanoseconds: (NIODeadline.now() - started).nanoseconds)
            completion(result)
        }
    }

    public func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) async throws -> Int {
        try await inner.importTempIDs(grants, at: time)
    }

    public func grants(of tempIDs: [TempID]) async throws -> [TempIDGrant?] {
        try await inner.grants(of: tempIDs)
    }

    public func recordUpload(_ upload: UploadRecord, audit: [AuditEntry]) async throws -> Int64 {
        try await timed(.upload) { try await inner.recordUpload(upload, audit: audit) }
    }

    public func deleteData(olderThan cutoff: Timestamp) async throws -> RetentionReport {
        try await inner.deleteData(olderThan: cutoff)
    }

    public func tracedContacts(of uploader: String) async throws -> [TracedContact] {
        try await inner.tracedContacts(of: uploader)
    }

    public func close() async { await inner.close() }

    public func upload(id: Int64) async throws -> UploadRecord? { try await inner.upload(id: id) }

    public func updateUploadCodes<Result: Sendable>(
        for phone: String, at time: Timestamp, _ change: @Sendable (inout UploadCodeLedger) -> Result
    ) async throws -> Result {
        try await timed(.uploadCodes) { try await inner.updateUploadCodes(for: phone, at: time, change) }
    }

    public func recordNotices(
        _ contacts: [(phone: String, lastEncounter: Timestamp)], at time: Timestamp
    ) async throws -> [ExposureNotice] {
        try await timed(.notices) { try await inner.recordNotices(contacts, at: time) }
    }

    public func pendingNotices(for phone: String) async throws -> [ExposureNotice] {
        try await inner.pendingNotices(for: phone)
    }

    public func markNoticeDelivered(id: Int64, to phone: String, at time: Timestamp) async throws -> Bool {
        try await timed(.noticeDelivered) { try await inner.markNoticeDelivered(id: id, to: phone, at: time) }
    }

    public func recordAudit(_ entries: [AuditEntry]) async throws {
        try await timed(.audit) { try await inner.recordAudit(entries) }
    }

    public func auditTrail(since: Timestamp?) async throws -> [AuditEntry] { try await inner.auditTrail(since: since) }

    public func ping() async throws { try await inner.ping() }

    public func uploads(offset: Int, limit: Int) async throws -> UploadPage {
        try await inner.uploads(offset: offset, limit: limit)
    }

    public func auditPage(offset: Int, limit: Int) async throws -> (total: Int, entries: [AuditEntry]) {
        try await inner.auditPage(offset: offset, limit: limit)
    }

    public func noticeStatuses(for phones: [String], since: Timestamp) async throws -> [String: NoticeStatus] {
        try await inner.noticeStatuses(for: phones, since: since)
    }

    public func official(named name: String) async throws -> OfficialAccount? { try await inner.official(named: name) }

    public func createOfficial(name: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        try await timed(.account) { try await inner.createOfficial(name: name, passwordHash: passwordHash, at: time) }
    }

    public func updateOfficialLoginState<Result: Sendable>(
        for name: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result? {
        try await timed(.loginState) { try await inner.updateOfficialLoginState(for: name, at: time, change) }
    }
}
