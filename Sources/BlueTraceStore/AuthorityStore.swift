import BlueTraceDomain

/// Everything the health authority keeps, behind an async interface that does not assume one process or one machine:
/// the embedded SQLite store implements it today, a PostgreSQL one shared by several servers can tomorrow.
///
/// Every method is one transaction. An upload is durable once `recordUpload` returns.
public protocol AuthorityStore: Sendable {
    /// The account named `username`, if it exists.
    func account(named username: String) async throws -> Account?

    /// Creates an account; returns `false`, changing nothing, when the username is taken.
    func createAccount(username: String, passwordHash: String, at time: Timestamp) async throws -> Bool

    /// Replaces an account's password hash (a changed password in credentials.txt, or stronger hash parameters).
    func updatePasswordHash(username: String, passwordHash: String, at time: Timestamp) async throws

    /// The login record of `username` (empty when it has none).
    func loginState(for username: String) async throws -> LoginState

    /// Applies `change` to the login record of `username` atomically (read, change, write in one transaction, so
    /// servers sharing the store count every failure) and returns what it returns.
    func updateLoginState<Result: Sendable>(
        for username: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result

    /// Records issued TempIDs in one transaction and tells, for each, whether it was new (`false`: that TempID was
    /// issued before, and nothing changed for it). `completion` runs once, on any thread, after the transaction has
    /// committed or failed: the server's connections wait for it without a task, and answer on their own event loop.
    func recordTempIDs(
        _ grants: [TempIDGrant], issuedAt time: Timestamp,
        completion: @escaping @Sendable (Result<[Bool], any Error>) -> Void)

    /// Records TempIDs read from tempIDs.txt; those already known are left as they are. Returns how many were new.
    /// Imported TempIDs are the operator's record and are never deleted by retention.
    func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) async throws -> Int

    /// The grant of each of `tempIDs`, in the order given (`nil` where none was issued): tracing reads the answer by
    /// position, so a million-entry upload is not hashed into a table of results.
    func grants(of tempIDs: [TempID]) async throws -> [TempIDGrant?]

    /// Stores an upload with every encounter and its verdict, and `audit` (what the audit trail says of it), in one
    /// transaction; returns the upload's id once committed.
    func recordUpload(_ upload: UploadRecord, audit: [AuditEntry]) async throws -> Int64

    /// Deletes uploads (with their encounters), issued TempID mappings, finished login records, upload codes that
    /// expired, exposure notices and audit entries older than `cutoff`.
    func deleteData(olderThan cutoff: Timestamp) async throws -> RetentionReport

    /// The people traced from the uploads of `uploader`, one row per contact.
    func tracedContacts(of uploader: String) async throws -> [TracedContact]

    /// Ends the store's use by this process (a SQLite store releases its server lock and its connections); nothing may
    /// use it after.
    func close() async

    /// The upload stored under `id` (as `recordUpload` returned it), with every entry and its verdict; `nil` if there
    /// is none (never stored, or deleted by retention).
    func upload(id: Int64) async throws -> UploadRecord?

    /// Applies `change` to the upload-code ledger of `phone` atomically (read, change, write in one transaction, so
    /// servers sharing the store count every wrong code) and returns what it returns.
    func updateUploadCodes<Result: Sendable>(
        for phone: String, at time: Timestamp, _ change: @Sendable (inout UploadCodeLedger) -> Result
    ) async throws -> Result

    /// Stores a notice for each close contact (`phone`, last encounter), made at `time`, in one transaction; returns
    /// them with their ids.
    func recordNotices(
        _ contacts: [(phone: String, lastEncounter: Timestamp)], at time: Timestamp
    ) async throws -> [ExposureNotice]

    /// The notices of `phone` not yet delivered, oldest first.
    func pendingNotices(for phone: String) async throws -> [ExposureNotice]

    /// Records that notice `id` reached `phone` at `time`; `false` when it is not a pending notice of that phone.
    func markNoticeDelivered(id: Int64, to phone: String, at time: Timestamp) async throws -> Bool

    /// Appends `entries` to the audit trail, in one transaction.
    func recordAudit(_ entries: [AuditEntry]) async throws

    /// The audit trail, oldest first: every entry at or after `since`, or all of it.
    func auditTrail(since: Timestamp?) async throws -> [AuditEntry]

    /// Returns once the store answers a trivial query (a readiness check); throws why it cannot.
    func ping() async throws

    /// Uploads newest first (by id): at most `limit` of them after skipping `offset`, with the count of all.
    func uploads(offset: Int, limit: Int) async throws -> UploadPage

    /// The audit trail newest first: at most `limit` entries after skipping `offset`, with the count of all.
    func auditPage(offset: Int, limit: Int) async throws -> (total: Int, entries: [AuditEntry])

    /// The latest exposure notice made at or after `since` for each of `phones` that has one.
    func noticeStatuses(for phones: [String], since: Timestamp) async throws -> [String: NoticeStatus]

    /// The health official named `name`, if there is one.
    func official(named name: String) async throws -> OfficialAccount?

    /// Creates an official's account; returns `false`, changing nothing, when the name is taken.
    func createOfficial(name: String, passwordHash: String, at time: Timestamp) async throws -> Bool

    /// Applies `change` to the console login record of official `name` atomically and returns what it returns;
    /// `nil`, changing nothing, when there is no such official.
    func updateOfficialLoginState<Result: Sendable>(
        for name: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result?
}

extension AuthorityStore {
    /// Nothing to close by default.
    public func close() async {}

    /// Records issued TempIDs in one transaction; tells, for each, whether it was new.
    public func recordTempIDs(_ grants: [TempIDGrant], issuedAt time: Timestamp) async throws -> [Bool] {
        try await withCheckedThrowingContinuation { continuation in
            recordTempIDs(grants, issuedAt: time) { continuation.resume(with: $0) }
        }
    }

    /// Stores an upload with every encounter and its verdict, without audit entries; returns its id once committed.
    public func recordUpload(_ upload: UploadRecord) async throws -> Int64 {
        try await recordUpload(upload, audit: [])
    }

    /// The grants of those of `tempIDs` that were issued, by TempID.
    public func grants(for tempIDs: [TempID]) async throws -> [TempID: TempIDGrant] {
        var found: [TempID: TempIDGrant] = [:]
        for case let grant? in try await grants(of: tempIDs) { found[grant.tempID] = grant }
        return found
    }

    /// Records an issued TempID; returns `false`, changing nothing, when that TempID was already issued.
    public func recordTempID(_ grant: TempIDGrant, issuedAt time: Timestamp) async throws -> Bool {
        try await recordTempIDs([grant], issuedAt: time)[0]
    }
}

/// A user account.
public struct Account: Hashable, Sendable {
    /// The username: an international phone number.
    public var username: String
    /// The salted password hash (never the password).
    public var passwordHash: String
    /// When the account was created.
    public var createdAt: Timestamp

    /// Creates an account value.
    public init(username: String, passwordHash: String, createdAt: Timestamp) {
        self.username = username
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}

/// One uploaded entry as stored: what it claimed and what tracing made of it. Invalid entries are stored too, flagged.
public struct StoredEncounter: Hashable, Sendable {
    /// The TempID the entry named, when it is a valid TempID (every encounter's; most malformed entries' too).
    public let validTempID: TempID?
    /// What was sent as the TempID when it is not a valid TempID (some malformed entries).
    private let invalidTempID: String?
    /// The TempID as sent (possibly not a valid TempID, for malformed entries).
    public var tempID: String? { validTempID?.rawValue ?? invalidTempID }
    /// The validity the entry claimed.
    public var validity: ValidityWindow?
    /// When the uploader's phone heard it.
    public var heardAt: Timestamp?
    /// The user it traced to, if it did.
    public var contact: String?
    /// Why it did not trace, if it did not.
    public var unmatchedReason: UnmatchedReason?
    /// Details of a malformed entry.
    public var detail: String?

    /// Creates a stored encounter of what was sent as the TempID.
    public init(
        tempID: String?, validity: ValidityWindow?, heardAt: Timestamp?, contact: String?,
        unmatchedReason: UnmatchedReason?, detail: String? = nil
    ) {
        let valid = tempID.flatMap { TempID($0) }
        self.init(
            validTempID: valid, invalidTempID: valid == nil ? tempID : nil, validity: validity, heardAt: heardAt,
            contact: contact, unmatchedReason: unmatchedReason, detail: detail)
    }

    /// Creates a stored encounter of an entry that named `tempID`, a valid TempID.
    public init(
        tempID: TempID, validity: ValidityWindow?, heardAt: Timestamp?, contact: String?,
        unmatchedReason: UnmatchedReason?, detail: String? = nil
    ) {
        self.init(
            validTempID: tempID, invalidTempID: nil, validity: validity, heardAt: heardAt, contact: contact,
            unmatchedReason: unmatchedReason, detail: detail)
    }

    private init(
        validTempID: TempID?, invalidTempID: String?, validity: ValidityWindow?, heardAt: Timestamp?,
        contact: String?, unmatchedReason: UnmatchedReason?, detail: String?
    ) {
        self.validTempID = validTempID
        self.invalidTempID = invalidTempID
        self.validity = validity
        self.heardAt = heardAt
        self.contact = contact
        self.unmatchedReason = unmatchedReason
        self.detail = detail
    }
}

/// What a retention run deleted.
public struct RetentionReport: Hashable, Sendable {
    /// Uploads deleted.
    public var uploads: Int
    /// Encounters deleted (with their uploads).
    public var encounters: Int
    /// TempID mappings deleted.
    public var tempIDs: Int
    /// Finished login records deleted.
    public var loginStates: Int
    /// Audit entries deleted.
    public var auditEntries: Int

    /// Creates a report.
    public init(uploads: Int, encounters: Int, tempIDs: Int, loginStates: Int, auditEntries: Int = 0) {
        self.uploads = uploads
        self.encounters = encounters
        self.tempIDs = tempIDs
        self.loginStates = loginStates
        self.auditEntries = auditEntries
    }
}

/// One person traced from a positive user's uploads: who to call, and what the phone logged of them.
public struct TracedContact: Hashable, Sendable, Codable {
    /// The contact's phone number.
    public var phone: String
    /// The first encounter (when heard; else the TempID's start; else when the upload arrived).
    public var firstEncounter: Timestamp
    /// The last encounter.
    public var lastEncounter: Timestamp
    /// How many encounters were logged.
    public var encounters: Int
    /// The contact's TempIDs that were heard.
    public var tempIDs: [TempID]

    /// Creates a traced contact.
    public init(phone: String, firstEncounter: Timestamp, lastEncounter: Timestamp, encounters: Int, tempIDs: [TempID])
    {
        self.phone = phone
        self.firstEncounter = firstEncounter
        self.lastEncounter = lastEncounter
        self.encounters = encounters
        self.tempIDs = tempIDs
    }

    /// The TempIDs comma-separated, as the stores keep them in a column (a TempID never holds a comma), written into
    /// a string sized for them at once.
    public var tempIDList: String {
        guard tempIDs.count > 1 else { return tempIDs.first?.rawValue ?? "" }
        let texts = tempIDs.map(\.rawValue)
        let size = texts.reduce(texts.count - 1) { $0 + $1.utf8.count }
        return String(unsafeUninitializedCapacity: size) { buffer in
            var offset = 0
            for (index, tempID) in texts.enumerated() {
                if index > 0 {
                    buffer[offset] = UInt8(ascii: ",")
                    offset += 1
                }
                var tempID = tempID
                tempID.withUTF8 { utf8 in
                    UnsafeMutableBufferPointer(rebasing: buffer[offset..<offset + utf8.count]).initialize(
                        fromContentsOf: utf8)
                    offset += utf8.count
                }
            }
            return offset
        }
    }

    /// One contact per phone from the contacts of several uploads (first and last over all, encounters added up,
    /// TempIDs united), ordered by first encounter and then phone: what a trace query answers.
    public static func merged(_ contacts: some Sequence<TracedContact>) -> [TracedContact] {
        var byPhone: [String: TracedContact] = [:]
        for contact in contacts {
            guard var merged = byPhone[contact.phone] else {
                byPhone[contact.phone] = contact
                continue
            }
            merged.firstEncounter = min(merged.firstEncounter, contact.firstEncounter)
            merged.lastEncounter = max(merged.lastEncounter, contact.lastEncounter)
            merged.encounters += contact.encounters
            merged.tempIDs = Array(Set(merged.tempIDs).union(contact.tempIDs)).sorted()
            byPhone[contact.phone] = merged
        }
        return byPhone.values.sorted { ($0.firstEncounter, $0.phone) < ($1.firstEncounter, $1.phone) }
    }
}
