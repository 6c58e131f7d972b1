import BlueTraceDomain

/// A store in this process's memory: the same interface and rules as `SQLiteStore`, nothing durable.
///
/// For simulations of large populations (no SQL, no thread hops) and tests; never for a real server.
public actor InMemoryStore: AuthorityStore {
    private var accounts: [String: Account] = [:]
    private var loginStates: [String: (state: LoginState, updatedAt: Timestamp)] = [:]
    private var tempIDs: [TempID: (grant: TempIDGrant, issuedAt: Timestamp, imported: Bool)] = [:]
    private var uploads: [(id: Int64, record: UploadRecord)] = []
    private var uploadCodes: [String: UploadCodeLedger] = [:]
    private var audit: [AuditEntry] = []
    private var notices: [(notice: ExposureNotice, deliveredAt: Timestamp?)] = []
    private var nextNoticeID: Int64 = 1
    private var officials: [String: OfficialAccount] = [:]
    /// Ids are never reused, even after retention deleted the last uploads.
    private var nextUploadID: Int64 = 1

    /// Creates an empty store.
    public init() {}

    public func account(named username: String) -> Account? { accounts[username] }

    public func createAccount(username: String, passwordHash: String, at time: Timestamp) -> Bool {
        guard accounts[username] == nil else { return false }
        accounts[username] = Account(username: username, passwordHash: passwordHash, createdAt: time)
        return true
    }

    public func updatePasswordHash(username: String, passwordHash: String, at time: Timestamp) {
        accounts[username]?.passwordHash = passwordHash
    }

    public func loginState(for username: String) -> LoginState { loginStates[username]?.state ?? LoginState() }

    public func updateLoginState<Result: Sendable>(
        for username: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) -> Result {
        var state = loginStates[username]?.state ?? LoginState()
        let result = change(&state)
        loginStates[username] = state.isEmpty ? nil : (state, time)
        return result
    }

    public nonisolated func recordTempIDs(
        _ grants: [TempIDGrant], issuedAt time: Timestamp,
        completion: @escaping @Sendable (Result<[Bool], any Error>) -> Void
    ) {
        Task { completion(.success(await self.insert(grants, issuedAt: time))) }
    }

    private func insert(_ grants: [TempIDGrant], issuedAt time: Timestamp) -> [Bool] {
        grants.map { grant in
            guard tempIDs[grant.tempID] == nil else { return false }
            tempIDs[grant.tempID] = (grant, time, false)
            return true
        }
    }

    public func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) -> Int {
        var added = 0
        for grant in grants where tempIDs[grant.tempID] == nil {
            tempIDs[grant.tempID] = (grant, time, true)
            added += 1
        }
        return added
    }

    public func grants(of tempIDs: [TempID]) -> [TempIDGrant?] {
        tempIDs.map { self.tempIDs[$0]?.grant }
    }

    public func recordUpload(_ upload: UploadRecord, audit: [AuditEntry]) -> Int64 {
        self.audit += audit
        let id = nextUploadID
        nextUploadID += 1
        uploads.append((id, upload))
        return id
    }

    public func deleteData(olderThan cutoff: Timestamp) -> RetentionReport {
        let old = uploads.filter { $0.record.receivedAt < cutoff }
        uploads.removeAll { $0.record.receivedAt < cutoff }
        let expired = tempIDs.filter { !$0.value.imported && $0.value.grant.validity.expiry < cutoff }
        for key in expired.keys { tempIDs[key] = nil }
        let finished = loginStates.filter { key, value in
            value.updatedAt < cutoff && (value.state.blockedUntil.map { $0 < cutoff } ?? true)
        }
        for key in finished.keys { loginStates[key] = nil }
        for phone in uploadCodes.keys {
            uploadCodes[phone]?.dropExpired(at: cutoff)
            if uploadCodes[phone]?.pending.isEmpty == true { uploadCodes[phone] = nil }
        }
        notices.removeAll { $0.notice.createdAt < cutoff }
        let oldAudit = audit.count
        audit.removeAll { $0.at < cutoff }
        return RetentionReport(
            uploads: old.count, encounters: old.reduce(0) { $0 + $1.record.entryCount }, tempIDs: expired.count,
            loginStates: finished.count, auditEntries: oldAudit - audit.count)
    }

    public func tracedContacts(of uploader: String) -> [TracedContact] {
        TracedContact.merged(uploads.lazy.filter { $0.record.uploader == uploader }.flatMap(\.record.tracedContacts))
    }

    public func updateUploadCodes<Result: Sendable>(
        for phone: String, at time: Timestamp, _ change: @Sendable (inout UploadCodeLedger) -> Result
    ) -> Result {
        var ledger = uploadCodes[phone] ?? UploadCodeLedger()
        let result = change(&ledger)
        uploadCodes[phone] = ledger.isEmpty ? nil : ledger
        return result
    }

    public func recordNotices(
        _ contacts: [(phone: String, lastEncounter: Timestamp)], at time: Timestamp
    ) -> [ExposureNotice] {
        contacts.map { contact in
            let notice = ExposureNotice(
                id: nextNoticeID, phone: contact.phone, lastEncounter: contact.lastEncounter, createdAt: time)
            nextNoticeID += 1
            notices.append((notice, nil))
            return notice
        }
    }

    public func pendingNotices(for phone: String) -> [ExposureNotice] {
        notices.filter { $0.notice.phone == phone && $0.deliveredAt == nil }.map(\.notice)
    }

    public func markNoticeDelivered(id: Int64, to phone: String, at time: Timestamp) -> Bool {
        guard
            let position = notices.firstIndex(where: {
                $0.notice.id == id && $0.notice.phone == phone && $0.deliveredAt == nil
            })
        else { return false }
        notices[position].deliveredAt = time
        return true
    }

    public func recordAudit(_ entries: [AuditEntry]) {
        audit += entries
    }

    public func auditTrail(since: Timestamp?) -> [AuditEntry] {
        since.map { since in audit.filter { $0.at >= since } } ?? audit
    }

    public func upload(id: Int64) -> UploadRecord? {
        uploads.first { $0.id == id }?.record
    }

    public func ping() {}

    public func uploads(offset: Int, limit: Int) -> UploadPage {
        let newest = uploads.reversed().dropFirst(max(0, offset)).prefix(max(0, limit))
        return UploadPage(
            total: uploads.count,
            uploads: newest.map { id, record in
                UploadSummary(
                    id: id, uploader: record.uploader, receivedAt: record.receivedAt, entries: record.entryCount,
                    traced: record.matchedCount)
            })
    }

    public func auditPage(offset: Int, limit: Int) -> (total: Int, entries: [AuditEntry]) {
        // Oldest first by time, then by insertion, as the stores order it; the page counts from the newest.
        let ordered = audit.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(
            \.element)
        return (audit.count, Array(ordered.reversed().dropFirst(max(0, offset)).prefix(max(0, limit))))
    }

    public func noticeStatuses(for phones: [String], since: Timestamp) -> [String: NoticeStatus] {
        let wanted = Set(phones)
        var latest: [String: NoticeStatus] = [:]
        for (notice, deliveredAt) in notices where wanted.contains(notice.phone) && notice.createdAt >= since {
            latest[notice.phone] = NoticeStatus(id: notice.id, createdAt: notice.createdAt, deliveredAt: deliveredAt)
        }
        return latest
    }

    public func official(named name: String) -> OfficialAccount? { officials[name] }

    public func createOfficial(name: String, passwordHash: String, at time: Timestamp) -> Bool {
        guard officials[name] == nil else { return false }
        officials[name] = OfficialAccount(name: name, passwordHash: passwordHash, createdAt: time)
        return true
    }

    public func updateOfficialLoginState<Result: Sendable>(
        for name: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) -> Result? {
        guard var official = officials[name] else { return nil }
        let result = change(&official.loginState)
        officials[name] = official
        return result
    }
}
