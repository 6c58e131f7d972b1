import BlueTraceDomain
import BlueTraceStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

/// The health authority's store in PostgreSQL, for several servers sharing one database.
///
/// Every method is one transaction on a pooled connection (`PostgresClient`, which must run as a service while the
/// store is used). Where the SQLite store relies on having one writer, this one relies on the database: TempIDs are a
/// primary key, the read-modify-write of a login record or a phone's upload codes holds a row lock or an advisory
/// lock for its transaction, so servers racing on one user see each other's changes.
public final class PostgresStore: AuthorityStore {
    /// How long a request waits for a connection by default before it is answered `unavailable`.
    public static let defaultConnectionWait: Duration = .seconds(5)

    /// The pool; run it (`client.run()`, or as a service of the server's group) while the store is in use.
    public let client: PostgresClient
    /// How long a request waits for a pooled connection (all busy, or the database unreachable) before it fails.
    private let connectionWait: Duration
    private let logger: Logger

    /// A store over `client`; call `migrate()` before the first use. A request that has no connection after
    /// `connectionWait` fails with `StoreError.unavailable`, as does one whose connection breaks.
    public init(client: PostgresClient, connectionWait: Duration = defaultConnectionWait, logger: Logger) {
        self.client = client
        self.connectionWait = connectionWait
        self.logger = logger
    }

    // MARK: Connections

    /// Runs `body` on a pooled connection. Waits at most `connectionWait` for one; once `body` runs it is not cut
    /// short (a long upload or retention run takes what it takes). A database that cannot be reached, or a connection
    /// that breaks, is reported as `StoreError.unavailable`; what was not committed is not stored.
    private func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let race = ConnectionRace()
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { [client] in
                    try await client.withConnection { connection in
                        guard race.start() else { throw ConnectionWaitExpired() }
                        return try await body(connection)
                    }
                }
                group.addTask { [connectionWait] in
                    try await Task.sleep(for: connectionWait)
                    if race.expire() { throw ConnectionWaitExpired() }
                    return nil
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw ConnectionWaitExpired()
            }
        } catch let error where Self.isUnavailability(error) {
            throw StoreError.unavailable(reason: Self.explanation(of: error))
        }
    }

    /// Runs `body` in one transaction on a pooled connection, as `withConnection` does.
    private func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { [logger] connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }

    /// Whether `error` says the database could not be reached or the connection broke (as opposed to a statement
    /// the database refused).
    static func isUnavailability(_ error: any Error) -> Bool {
        switch error {
        case is ConnectionWaitExpired, is ConnectionPoolError, is ChannelError, is IOError:
            return true
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed,
                .sslUnsupported, .failedToAddSSLHandler:
                return true
            case .server:
                // Class 08: connection exception; 57P01–57P03: the server is shutting down or starting up.
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
            default:
                return error.underlying.map(isUnavailability) ?? false
            }
        case let error as PostgresTransactionError:
            return [error.closureError, error.beginError, error.commitError, error.rollbackError].contains {
                $0.map(isUnavailability) ?? false
            }
        default:
            return false
        }
    }

    /// A short account of an unavailability, for the log and the error.
    static func explanation(of error: any Error) -> String {
        switch error {
        case is ConnectionWaitExpired: "no connection to the database within the wait"
        case let error as PSQLError where error.code == .server:
            error.serverInfo?[.message] ?? "the database server refused the connection"
        case let error as PSQLError: error.underlying.map(explanation) ?? "\(error.code)"
        case let error as PostgresTransactionError:
            [error.beginError, error.closureError, error.commitError].lazy.compactMap { $0 }.first.map(explanation)
                ?? "the transaction failed"
        default: "\(error)"
        }
    }

    /// Applies the migrations not yet applied, under an advisory lock, so two servers starting at once apply each
    /// migration once.
    public func migrate() async throws {
        try await client.withConnection { [logger] connection in try await Self.migrate(on: connection, logger: logger)
        }
    }

    /// Applies the migrations the database at `url` lacks, over a connection of its own (before any pool runs);
    /// with `count`, only those among the first `count` (to build a database of an older version, for tests).
    public static func migrate(_ url: PostgresURL, first count: Int? = nil, logger: Logger) async throws {
        try await url.withConnection(logger: logger) { connection in
            try await migrate(on: connection, first: count, logger: logger)
        }
    }

    private static func migrate(
        on connection: PostgresConnection, first count: Int? = nil, logger: Logger
    )
        async throws
    {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7243001)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migration (version TEXT PRIMARY KEY)", logger: logger)
            var applied: Set<String> = []
            for try await version in try await connection.query(
                "SELECT version FROM schema_migration", logger: logger
            ).decode(String.self) {
                applied.insert(version)
            }
            for (version, statements) in Self.migrations.prefix(count ?? Self.migrations.count)
            where !applied.contains(version) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migration (version) VALUES (\(version))", logger: logger)
            }
        }
    }

    /// The schema's history, in order. Never edit a shipped migration: add a new one.
    static let migrations: [(String, [String])] = [
        (
            "v1: the whole schema of SQLite's v9",
            [
                """
                CREATE TABLE account (
                    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE login_state (
                    username TEXT PRIMARY KEY, failures INTEGER NOT NULL, blocked_until BIGINT,
                    updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE tempid (
                    tempid TEXT PRIMARY KEY, username TEXT NOT NULL, start BIGINT NOT NULL, expiry BIGINT NOT NULL,
                    issued_at BIGINT NOT NULL, imported BOOLEAN NOT NULL DEFAULT FALSE)
                """,
                "CREATE INDEX tempid_on_expiry ON tempid (expiry)",
                """
                CREATE TABLE upload (
                    id BIGSERIAL PRIMARY KEY, uploader TEXT NOT NULL, received_at BIGINT NOT NULL,
                    entry_count INTEGER NOT NULL, matched_count INTEGER NOT NULL, entries BYTEA NOT NULL)
                """,
                "CREATE INDEX upload_on_uploader ON upload (uploader)",
                "CREATE INDEX upload_on_received_at ON upload (received_at)",
                """
                CREATE TABLE contact (
                    upload_id BIGINT NOT NULL REFERENCES upload (id) ON DELETE CASCADE, phone TEXT NOT NULL,
                    first_encounter BIGINT NOT NULL, last_encounter BIGINT NOT NULL, encounters INTEGER NOT NULL,
                    tempids TEXT NOT NULL, PRIMARY KEY (upload_id, phone))
                """,
                """
                CREATE TABLE upload_code (
                    phone TEXT NOT NULL, key_id INTEGER NOT NULL, mac BYTEA NOT NULL, issued_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL, PRIMARY KEY (phone, mac))
                """,
                """
                CREATE TABLE upload_code_attempt (
                    phone TEXT PRIMARY KEY, failures INTEGER NOT NULL, updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE audit_event (
                    id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                    subject TEXT, detail TEXT NOT NULL)
                """,
                "CREATE INDEX audit_event_on_at ON audit_event (at)",
                """
                CREATE TABLE notice (
                    id BIGSERIAL PRIMARY KEY, phone TEXT NOT NULL, last_encounter BIGINT NOT NULL,
                    created_at BIGINT NOT NULL, delivered_at BIGINT)
                """,
                "CREATE INDEX notice_pending ON notice (phone) WHERE delivered_at IS NULL",
            ]
        ),
        (
            "v2: health officials' console accounts (SQLite's v10)",
            [
                """
                CREATE TABLE official (
                    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at BIGINT NOT NULL,
                    failures INTEGER NOT NULL DEFAULT 0, blocked_until BIGINT, updated_at BIGINT NOT NULL)
                """,
                "CREATE INDEX notice_on_phone_created_at ON notice (phone, created_at)",
            ]
        ),
        (
            "v3: TempIDs compared byte by byte, expiry in a block-range index",
            [
                // TempIDs are ASCII digits or base64: the database's locale has nothing to say about their order, and
                // comparing them with memcmp instead of the locale's collation makes every index insert cheaper.
                #"ALTER TABLE tempid ALTER COLUMN tempid TYPE TEXT COLLATE "C""#,
                // TempIDs arrive in about the order they expire, so a block-range index finds retention's expired
                // rows in few block ranges and costs next to nothing per insert (docs/BENCHMARKS.md, round 5).
                "DROP INDEX tempid_on_expiry",
                "CREATE INDEX tempid_on_expiry ON tempid USING brin (expiry)",
            ]
        ),
    ]

    // MARK: Accounts

    public func account(named username: String) async throws -> Account? {
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                "SELECT password_hash, created_at FROM account WHERE username = \(username)", logger: logger)
            for try await (hash, created) in rows.decode((String, Int64).self) {
                return Account(username: username, passwordHash: hash, createdAt: Timestamp(secondsSinceEpoch: created))
            }
            return nil
        }
    }

    public func createAccount(username: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        let seconds = time.secondsSinceEpoch
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                INSERT INTO account (username, password_hash, created_at, updated_at)
                VALUES (\(username), \(passwordHash), \(seconds), \(seconds)) ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger)
            return try await Self.count(rows) == 1
        }
    }

    public func updatePasswordHash(username: String, passwordHash: String, at time: Timestamp) async throws {
        try await withConnection { [logger] connection in
            _ = try await connection.query(
                """
                UPDATE account SET password_hash = \(passwordHash), updated_at = \(time.secondsSinceEpoch)
                WHERE username = \(username)
                """, logger: logger)
        }
    }

    // MARK: Login records

    public func loginState(for username: String) async throws -> LoginState {
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                "SELECT failures, blocked_until FROM login_state WHERE username = \(username)", logger: logger)
            for try await (failures, blockedUntil) in rows.decode((Int32, Int64?).self) {
                return LoginState(
                    failures: Int(failures), blockedUntil: blockedUntil.map(Timestamp.init(secondsSinceEpoch:)))
            }
            return LoginState()
        }
    }

    public func updateLoginState<Result: Sendable>(
        for username: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result {
        let seconds = time.secondsSinceEpoch
        // The task group running the transaction ends before this method returns, so `change` never outlives it.
        return try await withoutActuallyEscaping(change) { change in
            try await withTransaction { [logger] connection in
                // The row exists before it is locked, so two servers counting a first failure take turns.
                try await connection.query(
                    """
                    INSERT INTO login_state (username, failures, updated_at) VALUES (\(username), 0, \(seconds))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
                var state = LoginState()
                for try await (failures, blockedUntil) in try await connection.query(
                    "SELECT failures, blocked_until FROM login_state WHERE username = \(username) FOR UPDATE",
                    logger: logger
                ).decode((Int32, Int64?).self) {
                    state = LoginState(
                        failures: Int(failures), blockedUntil: blockedUntil.map(Timestamp.init(secondsSinceEpoch:)))
                }
                let result = change(&state)
                if state.isEmpty {
                    try await connection.query("DELETE FROM login_state WHERE username = \(username)", logger: logger)
                } else {
                    let failures = Int32(state.failures)
                    let blockedUntil = state.blockedUntil?.secondsSinceEpoch
                    try await connection.query(
                        """
                        UPDATE login_state SET failures = \(failures), blocked_until = \(blockedUntil),
                        updated_at = \(seconds) WHERE username = \(username)
                        """, logger: logger)
                }
                return result
            }
        }
    }

    // MARK: TempIDs

    public func recordTempIDs(
        _ grants: [TempIDGrant], issuedAt time: Timestamp,
        completion: @escaping @Sendable (Result<[Bool], any Error>) -> Void
    ) {
        Task {
            do {
                completion(.success(try await self.insert(grants, imported: false, at: time)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    public func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) async throws -> Int {
        try await insert(grants, imported: true, at: time).reduce(0) { $1 ? $0 + 1 : $0 }
    }

    /// Inserts `grants` in one statement, prepared (parsed and planned once per connection, not per batch); the
    /// first mapping of a TempID wins. Tells, per grant, whether it was new.
    ///
    /// Issued TempIDs are random, so a batch is nearly always all new: it goes in as a plain insert, whose unique
    /// index checks each row in the one descent that inserts it. Only when that insert is refused (a TempID already
    /// mapped, or given twice in the batch: the statement then inserted nothing) is the batch inserted again with
    /// `ON CONFLICT DO NOTHING RETURNING`, which looks each row up before inserting it, to learn which were new.
    /// Imports, where repeats are expected, go that way at once.
    private func insert(_ grants: [TempIDGrant], imported: Bool, at time: Timestamp) async throws -> [Bool] {
        guard !grants.isEmpty else { return [] }
        let columns = TempIDColumns(grants: grants, issuedAt: time.secondsSinceEpoch, imported: imported)
        let inserted = try await withConnection { [logger] connection -> Set<String>? in
            if !imported {
                do {
                    _ = try await connection.execute(InsertNewTempIDs(columns: columns), logger: logger)
                    return nil
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                    // A unique violation: some TempID is not new. Nothing went in; ask which are.
                }
            }
            var inserted: Set<String> = []
            for try await tempID in try await connection.execute(InsertTempIDs(columns: columns), logger: logger) {
                inserted.insert(tempID)
            }
            return inserted
        }
        guard var remaining = inserted else { return grants.map { _ in true } }
        // A TempID given twice in one batch is new only the first time.
        return columns.tempIDs.map { remaining.remove($0) != nil }
    }

    public func grants(of tempIDs: [TempID]) async throws -> [TempIDGrant?] {
        let found = try await grantsByTempID(Array(Set(tempIDs.map(\.rawValue))))
        return tempIDs.map { found[$0] }
    }

    /// The grants of the distinct TempIDs `distinct` (their texts), by TempID, read 10,000 at a time.
    private func grantsByTempID(_ distinct: [String]) async throws -> [TempID: TempIDGrant] {
        try await withConnection { [logger] connection in
            var found: [TempID: TempIDGrant] = [:]
            for start in stride(from: 0, to: distinct.count, by: 10_000) {
                let part = Array(distinct[start..<min(start + 10_000, distinct.count)])
                let rows = try await connection.query(
                    "SELECT tempid, username, start, expiry FROM tempid WHERE tempid = ANY(\(part)::text[])",
                    logger: logger)
                for try await (raw, user, first, last) in rows.decode((String, String, Int64, Int64).self) {
                    guard let tempID = TempID(raw) else { continue }
                    found[tempID] = TempIDGrant(
                        user: user, tempID: tempID,
                        validity: ValidityWindow(
                            start: Timestamp(secondsSinceEpoch: first), expiry: Timestamp(secondsSinceEpoch: last)))
                }
            }
            return found
        }
    }

    // MARK: Uploads

    public func recordUpload(_ upload: UploadRecord, audit: [AuditEntry]) async throws -> Int64 {
        let block = ByteBuffer(bytes: upload.block.bytes)
        let contacts = upload.tracedContacts
        let matched = Int32(upload.matchedCount)
        let entryCount = Int32(upload.entryCount)
        let uploader = upload.uploader
        let receivedAt = upload.receivedAt.secondsSinceEpoch
        return try await withTransaction { [logger] connection in
            var id: Int64 = 0
            for try await value in try await connection.query(
                """
                INSERT INTO upload (uploader, received_at, entry_count, matched_count, entries)
                VALUES (\(uploader), \(receivedAt), \(entryCount), \(matched), \(block)) RETURNING id
                """, logger: logger
            ).decode(Int64.self) {
                id = value
            }
            if !contacts.isEmpty {
                let phones = contacts.map(\.phone)
                let firsts = contacts.map(\.firstEncounter.secondsSinceEpoch)
                let lasts = contacts.map(\.lastEncounter.secondsSinceEpoch)
                let counts = contacts.map { Int64($0.encounters) }
                let heard = contacts.map { $0.tempIDList }
                try await connection.query(
                    """
                    INSERT INTO contact (upload_id, phone, first_encounter, last_encounter, encounters, tempids)
                    SELECT \(id), p, f, l, c, t
                    FROM unnest(\(phones)::text[], \(firsts)::bigint[], \(lasts)::bigint[], \(counts)::bigint[],
                                \(heard)::text[]) AS g(p, f, l, c, t)
                    """, logger: logger)
            }
            try await Self.insertAudit(audit, on: connection, logger: logger)
            return id
        }
    }

    public func upload(id: Int64) async throws -> UploadRecord? {
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                "SELECT uploader, received_at, entries FROM upload WHERE id = \(id)", logger: logger)
            for try await (uploader, receivedAt, entries) in rows.decode((String, Int64, ByteBuffer).self) {
                return UploadRecord(
                    uploader: uploader, receivedAt: Timestamp(secondsSinceEpoch: receivedAt),
                    encounters: try EncounterBlock.encounters(in: Array(entries.readableBytesView)))
            }
            return nil
        }
    }

    public func tracedContacts(of uploader: String) async throws -> [TracedContact] {
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                SELECT contact.phone, contact.first_encounter, contact.last_encounter, contact.encounters, contact.tempids
                FROM contact JOIN upload ON upload.id = contact.upload_id WHERE upload.uploader = \(uploader)
                """, logger: logger)
            var contacts: [TracedContact] = []
            for try await (phone, first, last, count, heard) in rows.decode((String, Int64, Int64, Int32, String).self)
            {
                contacts.append(
                    TracedContact(
                        phone: phone, firstEncounter: Timestamp(secondsSinceEpoch: first),
                        lastEncounter: Timestamp(secondsSinceEpoch: last), encounters: Int(count),
                        // Only traced TempIDs are listed, and a TempID never holds a comma.
                        tempIDs: heard.split(separator: ",").compactMap { TempID($0) }))
            }
            return TracedContact.merged(contacts)
        }
    }

    // MARK: Retention

    public func deleteData(olderThan cutoff: Timestamp) async throws -> RetentionReport {
        let seconds = cutoff.secondsSinceEpoch
        return try await withTransaction { [logger] connection in
            func count(_ query: PostgresQuery) async throws -> Int {
                var total = 0
                for try await value in try await connection.query(query, logger: logger).decode(Int64.self) {
                    total = Int(value)
                }
                return total
            }
            let encounters = try await count(
                "SELECT COALESCE(SUM(entry_count), 0)::bigint FROM upload WHERE received_at < \(seconds)")
            let uploads = try await count(
                "WITH d AS (DELETE FROM upload WHERE received_at < \(seconds) RETURNING 1) SELECT count(*) FROM d")
            let tempIDs = try await count(
                """
                WITH d AS (DELETE FROM tempid WHERE expiry < \(seconds) AND NOT imported RETURNING 1)
                SELECT count(*) FROM d
                """)
            let loginStates = try await count(
                """
                WITH d AS (DELETE FROM login_state WHERE updated_at < \(seconds)
                           AND (blocked_until IS NULL OR blocked_until < \(seconds)) RETURNING 1)
                SELECT count(*) FROM d
                """)
            try await connection.query("DELETE FROM upload_code WHERE expires_at < \(seconds)", logger: logger)
            try await connection.query(
                "DELETE FROM upload_code_attempt WHERE phone NOT IN (SELECT phone FROM upload_code)", logger: logger)
            try await connection.query("DELETE FROM notice WHERE created_at < \(seconds)", logger: logger)
            let audit = try await count(
                "WITH d AS (DELETE FROM audit_event WHERE at < \(seconds) RETURNING 1) SELECT count(*) FROM d")
            return RetentionReport(
                uploads: uploads, encounters: encounters, tempIDs: tempIDs, loginStates: loginStates,
                auditEntries: audit)
        }
    }

    // MARK: Upload codes, notices and the audit trail

    public func updateUploadCodes<Result: Sendable>(
        for phone: String, at time: Timestamp, _ change: @Sendable (inout UploadCodeLedger) -> Result
    ) async throws -> Result {
        let seconds = time.secondsSinceEpoch
        // The task group running the transaction ends before this method returns, so `change` never outlives it.
        return try await withoutActuallyEscaping(change) { change in
            try await withTransaction { [logger] connection in
                // One phone's codes change one transaction at a time, across every server.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(phone)))", logger: logger)
                var pending: [PendingUploadCode] = []
                for try await (keyID, mac, issuedAt, expiresAt) in try await connection.query(
                    "SELECT key_id, mac, issued_at, expires_at FROM upload_code WHERE phone = \(phone) ORDER BY issued_at",
                    logger: logger
                ).decode((Int32, ByteBuffer, Int64, Int64).self) {
                    pending.append(
                        PendingUploadCode(
                            keyID: UInt8(clamping: keyID), mac: Array(mac.readableBytesView),
                            issuedAt: Timestamp(secondsSinceEpoch: issuedAt),
                            expiresAt: Timestamp(secondsSinceEpoch: expiresAt)))
                }
                var failures = 0
                for try await value in try await connection.query(
                    "SELECT failures FROM upload_code_attempt WHERE phone = \(phone)", logger: logger
                ).decode(Int32.self) {
                    failures = Int(value)
                }
                var ledger = UploadCodeLedger(pending: pending, failures: failures)
                let result = change(&ledger)
                try await connection.query("DELETE FROM upload_code WHERE phone = \(phone)", logger: logger)
                for code in ledger.pending {
                    var mac = ByteBuffer()
                    mac.writeBytes(code.mac)
                    let keyID = Int32(code.keyID)
                    try await connection.query(
                        """
                        INSERT INTO upload_code (phone, key_id, mac, issued_at, expires_at)
                        VALUES (\(phone), \(keyID), \(mac), \(code.issuedAt.secondsSinceEpoch),
                                \(code.expiresAt.secondsSinceEpoch))
                        """, logger: logger)
                }
                if ledger.failures == 0 {
                    try await connection.query("DELETE FROM upload_code_attempt WHERE phone = \(phone)", logger: logger)
                } else {
                    let count = Int32(ledger.failures)
                    try await connection.query(
                        """
                        INSERT INTO upload_code_attempt (phone, failures, updated_at) VALUES (\(phone), \(count), \(seconds))
                        ON CONFLICT (phone) DO UPDATE SET failures = EXCLUDED.failures, updated_at = EXCLUDED.updated_at
                        """, logger: logger)
                }
                return result
            }
        }
    }

    public func recordNotices(
        _ contacts: [(phone: String, lastEncounter: Timestamp)], at time: Timestamp
    ) async throws -> [ExposureNotice] {
        guard !contacts.isEmpty else { return [] }
        let phones = contacts.map(\.phone)
        let lasts = contacts.map(\.lastEncounter.secondsSinceEpoch)
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                INSERT INTO notice (phone, last_encounter, created_at)
                SELECT p, l, \(time.secondsSinceEpoch) FROM unnest(\(phones)::text[], \(lasts)::bigint[]) WITH ORDINALITY
                    AS g(p, l, n) ORDER BY n
                RETURNING id, phone, last_encounter
                """, logger: logger)
            var notices: [ExposureNotice] = []
            for try await (id, phone, last) in rows.decode((Int64, String, Int64).self) {
                notices.append(
                    ExposureNotice(
                        id: id, phone: phone, lastEncounter: Timestamp(secondsSinceEpoch: last), createdAt: time))
            }
            return notices.sorted { $0.id < $1.id }
        }
    }

    public func pendingNotices(for phone: String) async throws -> [ExposureNotice] {
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                SELECT id, last_encounter, created_at FROM notice WHERE phone = \(phone) AND delivered_at IS NULL
                ORDER BY id
                """, logger: logger)
            var notices: [ExposureNotice] = []
            for try await (id, last, created) in rows.decode((Int64, Int64, Int64).self) {
                notices.append(
                    ExposureNotice(
                        id: id, phone: phone, lastEncounter: Timestamp(secondsSinceEpoch: last),
                        createdAt: Timestamp(secondsSinceEpoch: created)))
            }
            return notices
        }
    }

    public func markNoticeDelivered(id: Int64, to phone: String, at time: Timestamp) async throws -> Bool {
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                UPDATE notice SET delivered_at = \(time.secondsSinceEpoch)
                WHERE id = \(id) AND phone = \(phone) AND delivered_at IS NULL RETURNING 1
                """, logger: logger)
            return try await Self.count(rows) == 1
        }
    }

    public func recordAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await withConnection { [logger] connection in
            try await Self.insertAudit(entries, on: connection, logger: logger)
        }
    }

    /// Appends `entries` to the audit trail on `connection` (inside its transaction, if one is open), in one statement.
    private static func insertAudit(
        _ entries: [AuditEntry], on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !entries.isEmpty else { return }
        let ats = entries.map(\.at.secondsSinceEpoch)
        let actors = entries.map(\.actor)
        let actions = entries.map(\.action.rawValue)
        let subjects = entries.map { $0.subject ?? "" }
        let hasSubject = entries.map { $0.subject != nil }
        let details = entries.map(\.detail)
        _ = try await connection.query(
            """
            INSERT INTO audit_event (at, actor, action, subject, detail)
            SELECT a, r, n, CASE WHEN h THEN s END, d
            FROM unnest(\(ats)::bigint[], \(actors)::text[], \(actions)::text[], \(subjects)::text[],
                        \(hasSubject)::boolean[], \(details)::text[]) WITH ORDINALITY AS g(a, r, n, s, h, d, o)
            ORDER BY o
            """, logger: logger)
    }

    public func auditTrail(since: Timestamp?) async throws -> [AuditEntry] {
        let from = since?.secondsSinceEpoch ?? Int64.min
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                "SELECT at, actor, action, subject, detail FROM audit_event WHERE at >= \(from) ORDER BY at, id",
                logger: logger)
            var entries: [AuditEntry] = []
            for try await (at, actor, action, subject, detail) in rows.decode(
                (Int64, String, String, String?, String).self)
            {
                entries.append(
                    AuditEntry(
                        at: Timestamp(secondsSinceEpoch: at), actor: actor, action: AuditAction(rawValue: action),
                        subject: subject, detail: detail))
            }
            return entries
        }
    }

    // MARK: The console

    public func ping() async throws {
        _ = try await withConnection { [logger] connection in
            try await connection.query("SELECT 1", logger: logger)
            return true
        }
    }

    public func uploads(offset: Int, limit: Int) async throws -> UploadPage {
        let limit = Int64(max(0, limit))
        let offset = Int64(max(0, offset))
        return try await withConnection { [logger] connection in
            var total = 0
            for try await count in try await connection.query("SELECT COUNT(*) FROM upload", logger: logger).decode(
                Int64.self)
            {
                total = Int(count)
            }
            let rows = try await connection.query(
                """
                SELECT id, uploader, received_at, entry_count, matched_count FROM upload
                ORDER BY id DESC LIMIT \(limit) OFFSET \(offset)
                """, logger: logger)
            var uploads: [UploadSummary] = []
            for try await (id, uploader, receivedAt, entries, traced) in rows.decode(
                (Int64, String, Int64, Int32, Int32).self)
            {
                uploads.append(
                    UploadSummary(
                        id: id, uploader: uploader, receivedAt: Timestamp(secondsSinceEpoch: receivedAt),
                        entries: Int(entries), traced: Int(traced)))
            }
            return UploadPage(total: total, uploads: uploads)
        }
    }

    public func auditPage(offset: Int, limit: Int) async throws -> (total: Int, entries: [AuditEntry]) {
        let limit = Int64(max(0, limit))
        let offset = Int64(max(0, offset))
        let page = try await withConnection { [logger] connection in
            var total = 0
            for try await count in try await connection.query("SELECT COUNT(*) FROM audit_event", logger: logger)
                .decode(Int64.self)
            {
                total = Int(count)
            }
            let rows = try await connection.query(
                """
                SELECT at, actor, action, subject, detail FROM audit_event ORDER BY at DESC, id DESC
                LIMIT \(limit) OFFSET \(offset)
                """, logger: logger)
            var entries: [AuditEntry] = []
            for try await (at, actor, action, subject, detail) in rows.decode(
                (Int64, String, String, String?, String).self)
            {
                entries.append(
                    AuditEntry(
                        at: Timestamp(secondsSinceEpoch: at), actor: actor, action: AuditAction(rawValue: action),
                        subject: subject, detail: detail))
            }
            return AuditPage(total: total, entries: entries)
        }
        return (page.total, page.entries)
    }

    /// A page of the audit trail, as one Sendable value out of a connection.
    private struct AuditPage: Sendable {
        var total: Int
        var entries: [AuditEntry]
    }

    public func noticeStatuses(for phones: [String], since: Timestamp) async throws -> [String: NoticeStatus] {
        guard !phones.isEmpty else { return [:] }
        let distinct = Array(Set(phones))
        let from = since.secondsSinceEpoch
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                SELECT DISTINCT ON (phone) phone, id, created_at, delivered_at FROM notice
                WHERE phone = ANY(\(distinct)::text[]) AND created_at >= \(from)
                ORDER BY phone, id DESC
                """, logger: logger)
            var latest: [String: NoticeStatus] = [:]
            for try await (phone, id, created, delivered) in rows.decode((String, Int64, Int64, Int64?).self) {
                latest[phone] = NoticeStatus(
                    id: id, createdAt: Timestamp(secondsSinceEpoch: created),
                    deliveredAt: delivered.map(Timestamp.init(secondsSinceEpoch:)))
            }
            return latest
        }
    }

    public func official(named name: String) async throws -> OfficialAccount? {
        try await withConnection { [logger] connection in
            let rows = try await connection.query(
                "SELECT password_hash, created_at, failures, blocked_until FROM official WHERE name = \(name)",
                logger: logger)
            for try await (hash, created, failures, blockedUntil) in rows.decode((String, Int64, Int32, Int64?).self) {
                return OfficialAccount(
                    name: name, passwordHash: hash, createdAt: Timestamp(secondsSinceEpoch: created),
                    loginState: LoginState(
                        failures: Int(failures), blockedUntil: blockedUntil.map(Timestamp.init(secondsSinceEpoch:))))
            }
            return nil
        }
    }

    public func createOfficial(name: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        let seconds = time.secondsSinceEpoch
        return try await withConnection { [logger] connection in
            let rows = try await connection.query(
                """
                INSERT INTO official (name, password_hash, created_at, updated_at)
                VALUES (\(name), \(passwordHash), \(seconds), \(seconds)) ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger)
            return try await Self.count(rows) == 1
        }
    }

    public func updateOfficialLoginState<Result: Sendable>(
        for name: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result? {
        let seconds = time.secondsSinceEpoch
        // The task group running the transaction ends before this method returns, so `change` never outlives it.
        return try await withoutActuallyEscaping(change) { change in
            try await withTransaction { [logger] connection -> Result? in
                var found: LoginState?
                for try await (failures, blockedUntil) in try await connection.query(
                    "SELECT failures, blocked_until FROM official WHERE name = \(name) FOR UPDATE", logger: logger
                ).decode((Int32, Int64?).self) {
                    found = LoginState(
                        failures: Int(failures), blockedUntil: blockedUntil.map(Timestamp.init(secondsSinceEpoch:)))
                }
                guard var state = found else { return nil }
                let result = change(&state)
                let failures = Int32(state.failures)
                let blockedUntil = state.blockedUntil?.secondsSinceEpoch
                try await connection.query(
                    """
                    UPDATE official SET failures = \(failures), blocked_until = \(blockedUntil),
                    updated_at = \(seconds) WHERE name = \(name)
                    """, logger: logger)
                return result
            }
        }
    }

    /// A batch of TempID mappings as the columns the inserts bind, one array each.
    private struct TempIDColumns: Sendable {
        let tempIDs: [String]
        let users: [String]
        let starts: [Int64]
        let expiries: [Int64]
        let issuedAt: Int64
        let imported: Bool

        init(grants: [TempIDGrant], issuedAt: Int64, imported: Bool) {
            tempIDs = grants.map(\.tempID.rawValue)
            users = grants.map(\.user)
            starts = grants.map(\.validity.start.secondsSinceEpoch)
            expiries = grants.map(\.validity.expiry.secondsSinceEpoch)
            self.issuedAt = issuedAt
            self.imported = imported
        }

        /// The six parameters both inserts take.
        var bindings: PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(tempIDs)
            bindings.append(users)
            bindings.append(starts)
            bindings.append(expiries)
            bindings.append(issuedAt)
            bindings.append(imported)
            return bindings
        }

        /// The rows, from the bound arrays.
        static let rows = """
            INSERT INTO tempid (tempid, username, start, expiry, issued_at, imported)
            SELECT t, u, s, e, $5, $6 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS g(t, u, s, e)
            """
    }

    /// The insert of a batch expected to be all new, prepared once per connection: refused whole (unique
    /// violation) if any TempID is not.
    private struct InsertNewTempIDs: PostgresPreparedStatement {
        // Named explicitly: the default name, the type's reflected name, runs past PostgreSQL's 63-byte identifiers
        // for a private type, and two such names cut to the same 63 bytes clash on the server.
        static let name = "bluetrace_insert_new_tempids"
        static let sql = TempIDColumns.rows
        typealias Row = ()
        let columns: TempIDColumns

        func makeBindings() -> PostgresBindings { columns.bindings }
        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// The insert that keeps the first mapping of every TempID and answers the ones it inserted, prepared once per
    /// connection.
    private struct InsertTempIDs: PostgresPreparedStatement {
        static let name = "bluetrace_insert_tempids"
        static let sql = TempIDColumns.rows + " ON CONFLICT DO NOTHING RETURNING tempid"
        typealias Row = String
        let columns: TempIDColumns

        func makeBindings() -> PostgresBindings { columns.bindings }
        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// The race between a request's connection and its wait: whichever comes first wins, once.
    private final class ConnectionRace: Sendable {
        private enum State { case waiting, started, expired }
        private let state = Mutex(State.waiting)

        /// The connection came: true unless the wait expired first.
        func start() -> Bool { finish(as: .started) }

        /// The wait expired: true unless the connection came first.
        func expire() -> Bool { finish(as: .expired) }

        private func finish(as outcome: State) -> Bool {
            state.withLock { state in
                guard state == .waiting else { return false }
                state = outcome
                return true
            }
        }
    }

    /// No connection came within the wait.
    private struct ConnectionWaitExpired: Error {}

    /// How many rows `rows` holds.
    private static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}
