import BlueTraceDomain
import Foundation
import GRDB

/// The embedded default store: one SQLite file through GRDB, in WAL mode, schema kept by migrations.
///
/// GRDB runs every access on its own serial writer queue or reader pool, never on a NIO event loop.
public final class SQLiteStore: AuthorityStore {
    private let writer: any DatabaseWriter

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws(StoreError) {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // Large uploads and imports touch many pages at once: a 64 MiB page cache on the writer keeps a
                // million-entry transaction off the disk until it commits. Readers keep SQLite's small default
                // cache and map the file instead of copying pages through read(2). Both are upper bounds, used
                // only as far as the data needs.
                if !db.configuration.readonly {
                    try db.execute(sql: "PRAGMA cache_size = -65536")
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
                }
                try db.execute(sql: "PRAGMA mmap_size = 4294967296")
            }
            writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Opens a private in-memory database (for tests and simulations).
    public init() throws(StoreError) {
        do {
            writer = try DatabaseQueue()
            try Self.migrator.migrate(writer)
        } catch {
            throw StoreError.cannotOpen(path: ":memory:", reason: "\(error)")
        }
    }

    /// The schema's history. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "account") { t in
                t.primaryKey("username", .text)
                t.column("passwordHash", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
            }
            try db.create(table: "loginState") { t in
                t.primaryKey("username", .text)
                t.column("failures", .integer).notNull()
                t.column("blockedUntil", .integer)
                t.column("updatedAt", .integer).notNull()
            }
            try db.create(table: "tempID") { t in
                t.primaryKey("tempID", .text)
                t.column("username", .text).notNull()
                t.column("start", .integer).notNull()
                t.column("expiry", .integer).notNull().indexed()
                t.column("issuedAt", .integer).notNull()
            }
            try db.create(table: "upload") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("uploader", .text).notNull()
                t.column("receivedAt", .integer).notNull().indexed()
                t.column("entryCount", .integer).notNull()
                t.column("matchedCount", .integer).notNull()
            }
            try db.create(table: "encounter") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("upload", onDelete: .cascade).notNull()
                t.column("tempID", .text)
                t.column("start", .integer)
                t.column("expiry", .integer)
                t.column("heardAt", .integer)
                t.column("contact", .text)
                t.column("verdict", .text).notNull()
            }
        }
        migrator.registerMigration("v2: malformed details, imported TempIDs, trace indexes") { db in
            try db.alter(table: "encounter") { t in t.add(column: "detail", .text) }
            // TempIDs read from the operator's tempIDs.txt are kept whatever their age: the file is the record.
            try db.alter(table: "tempID") { t in t.add(column: "imported", .boolean).notNull().defaults(to: false) }
            try db.create(index: "upload_on_uploader", on: "upload", columns: ["uploader"])
            try db.create(index: "encounter_on_contact", on: "encounter", columns: ["contact"])
        }
        migrator.registerMigration("v3: TempIDs in a table without rowid") { db in
            // Keyed by the TempID itself: one B-tree to search and to insert into, instead of an index beside a
            // rowid table. Tracing looks every uploaded TempID up here.
            try db.create(table: "tempID_v3", options: [.withoutRowID]) { t in
                t.primaryKey("tempID", .text)
                t.column("username", .text).notNull()
                t.column("start", .integer).notNull()
                t.column("expiry", .integer).notNull()
                t.column("issuedAt", .integer).notNull()
                t.column("imported", .boolean).notNull().defaults(to: false)
            }
            try db.execute(
                sql: """
                    INSERT INTO tempID_v3 (tempID, username, start, expiry, issuedAt, imported)
                    SELECT tempID, username, start, expiry, issuedAt, imported FROM tempID
                    """)
            try db.drop(table: "tempID")
            try db.rename(table: "tempID_v3", to: "tempID")
            try db.create(index: "tempID_on_expiry", on: "tempID", columns: ["expiry"])
        }
        migrator.registerMigration("v4: no index on encounter contacts") { db in
            // No query reads encounters by contact (traces go through the uploader), and keeping this index cost
            // about a third of the time to store each uploaded entry.
            try db.drop(index: "encounter_on_contact")
        }
        migrator.registerMigration("v5: encounters keyed by rowid without AUTOINCREMENT") { db in
            // AUTOINCREMENT keeps ids from ever being reused at the price of a sqlite_sequence update per row; no one
            // refers to an encounter by id, and storing an entry costs about a quarter less without it.
            try db.execute(
                sql: """
                    CREATE TABLE encounter_v5 (
                        id INTEGER PRIMARY KEY,
                        uploadId INTEGER NOT NULL REFERENCES upload(id) ON DELETE CASCADE,
                        tempID TEXT, start INTEGER, expiry INTEGER, heardAt INTEGER, contact TEXT,
                        verdict TEXT NOT NULL, detail TEXT);
                    INSERT INTO encounter_v5 (id, uploadId, tempID, start, expiry, heardAt, contact, verdict, detail)
                        SELECT id, uploadId, tempID, start, expiry, heardAt, contact, verdict, detail FROM encounter;
                    DROP TABLE encounter;
                    ALTER TABLE encounter_v5 RENAME TO encounter;
                    CREATE INDEX encounter_on_uploadId ON encounter(uploadId);
                    """)
        }
        return migrator
    }

    // MARK: Accounts

    public func account(named username: String) async throws -> Account? {
        try await writer.read { db in
            try AccountRow.fetchOne(db, key: username).map {
                Account(
                    username: $0.username, passwordHash: $0.passwordHash,
                    createdAt: Timestamp(secondsSinceEpoch: $0.createdAt))
            }
        }
    }

    public func createAccount(username: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        try await writer.write { db in
            guard try AccountRow.fetchOne(db, key: username) == nil else { return false }
            try AccountRow(
                username: username, passwordHash: passwordHash, createdAt: time.secondsSinceEpoch,
                updatedAt: time.secondsSinceEpoch
            ).insert(db)
            return true
        }
    }

    public func updatePasswordHash(username: String, passwordHash: String, at time: Timestamp) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE account SET passwordHash = ?, updatedAt = ? WHERE username = ?",
                arguments: [passwordHash, time.secondsSinceEpoch, username])
        }
    }

    // MARK: Login records

    public func loginState(for username: String) async throws -> LoginState {
        try await writer.read { db in try LoginStateRow.fetchOne(db, key: username)?.state ?? LoginState() }
    }

    public func updateLoginState<Result: Sendable>(
        for username: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result {
        try await writer.write { db in
            var state = try LoginStateRow.fetchOne(db, key: username)?.state ?? LoginState()
            let result = change(&state)
            if state.isEmpty {
                _ = try LoginStateRow.deleteOne(db, key: username)
            } else {
                try LoginStateRow(username: username, state: state, updatedAt: time).save(db)
            }
            return result
        }
    }

    // MARK: TempIDs

    public func recordTempIDs(
        _ grants: [TempIDGrant], issuedAt time: Timestamp,
        completion: @escaping @Sendable (Result<[Bool], any Error>) -> Void
    ) {
        // Queued behind the writes already waiting (logins, uploads), never ahead of them.
        writer.asyncWriteWithoutTransaction { db in
            completion(
                Result {
                    var recorded: [Bool] = []
                    recorded.reserveCapacity(grants.count)
                    try db.inTransaction {
                        let insert = try TempIDInsert(db, imported: false)
                        for grant in grants { recorded.append(try insert(grant, issuedAt: time)) }
                        return .commit
                    }
                    return recorded
                })
        }
    }

    public func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) async throws -> Int {
        try await writer.write { db in
            let insert = try TempIDInsert(db, imported: true)
            return try grants.reduce(0) { inserted, grant in try insert(grant, issuedAt: time) ? inserted + 1 : inserted
            }
        }
    }

    public func grants(for tempIDs: [TempID]) async throws -> [TempID: TempIDGrant] {
        guard !tempIDs.isEmpty else { return [:] }
        let keys = Self.lookupOrder(tempIDs)
        // A large upload is looked up in contiguous parts on several reader connections at once (one per core).
        let parts = keys.count < 100_000 ? 1 : min(ProcessInfo.processInfo.activeProcessorCount, 4)
        let partSize = (keys.count + parts - 1) / parts
        let found = try await withThrowingTaskGroup(of: [TempIDGrant].self) { group in
            for start in stride(from: 0, to: keys.count, by: partSize) {
                let part = keys[start..<min(start + partSize, keys.count)]
                group.addTask { try await self.lookUp(part) }
            }
            return try await group.reduce(into: []) { $0.append(contentsOf: $1) }
        }
        return Dictionary(found.map { ($0.tempID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The stored mappings of `keys` (distinct, in key order), read in one transaction.
    private func lookUp(_ keys: ArraySlice<TempID>) async throws -> [TempIDGrant] {
        try await writer.read { db in
            let select = try RawStatement(db, sql: "SELECT username, start, expiry FROM tempID WHERE tempID = ?")
            var found: [TempIDGrant] = []
            found.reserveCapacity(keys.count)
            for tempID in keys {
                select.bind(tempID.rawValue, at: 1)
                if try select.step() {
                    found.append(
                        TempIDGrant(
                            user: select.text(at: 0), tempID: tempID,
                            validity: ValidityWindow(
                                start: Timestamp(secondsSinceEpoch: select.int64(at: 1)),
                                expiry: Timestamp(secondsSinceEpoch: select.int64(at: 2)))))
                }
                select.reset()
            }
            return found
        }
    }

    /// The distinct TempIDs in the table's key order, so each lookup lands beside the last one in the B-tree.
    ///
    /// 20-digit TempIDs are ordered by their `decimalHalves`, the same order as their text (SQLite compares text
    /// bytewise) at a fraction of the cost of comparing strings: for a million-entry upload, 0.1 s instead of 2 s.
    static func lookupOrder(_ tempIDs: [TempID]) -> [TempID] {
        var decimal: [(key: (high: UInt64, low: UInt64), index: Int)] = []
        decimal.reserveCapacity(tempIDs.count)
        var others: Set<TempID> = []
        for (index, tempID) in tempIDs.enumerated() {
            if let key = tempID.decimalHalves { decimal.append((key, index)) } else { others.insert(tempID) }
        }
        decimal.sort { $0.key < $1.key }
        var ordered: [TempID] = []
        ordered.reserveCapacity(decimal.count + others.count)
        var previous: (high: UInt64, low: UInt64)?
        for item in decimal where previous.map({ $0 != item.key }) ?? true {
            ordered.append(tempIDs[item.index])
            previous = item.key
        }
        return ordered + others.sorted()
    }

    // MARK: Uploads

    public func recordUpload(_ upload: UploadRecord) async throws -> Int64 {
        try await writer.write { db in
            var row = UploadRow(
                id: nil, uploader: upload.uploader, receivedAt: upload.receivedAt.secondsSinceEpoch,
                entryCount: upload.encounters.count,
                matchedCount: upload.encounters.reduce(0) { $0 + ($1.contact == nil ? 0 : 1) })
            try row.insert(db)
            let uploadID = row.id!
            let insert = try RawStatement(
                db,
                sql: """
                    INSERT INTO encounter (uploadId, tempID, start, expiry, heardAt, contact, verdict, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insert.bind(uploadID, at: 1)
            for encounter in upload.encounters {
                insert.bind(encounter.tempID, at: 2)
                insert.bind(encounter.validity?.start.secondsSinceEpoch, at: 3)
                insert.bind(encounter.validity?.expiry.secondsSinceEpoch, at: 4)
                insert.bind(encounter.heardAt?.secondsSinceEpoch, at: 5)
                insert.bind(encounter.contact, at: 6)
                insert.bind(encounter.unmatchedReason?.rawValue ?? "traced", at: 7)
                insert.bind(encounter.detail, at: 8)
                try insert.run()
            }
            return uploadID
        }
    }

    // MARK: Retention

    public func deleteData(olderThan cutoff: Timestamp) async throws -> RetentionReport {
        let seconds = cutoff.secondsSinceEpoch
        return try await writer.write { db in
            let encounters =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM encounter JOIN upload ON upload.id = encounter.uploadId "
                        + "WHERE upload.receivedAt < ?", arguments: [seconds]) ?? 0
            try db.execute(sql: "DELETE FROM upload WHERE receivedAt < ?", arguments: [seconds])
            let uploads = db.changesCount
            try db.execute(sql: "DELETE FROM tempID WHERE expiry < ? AND NOT imported", arguments: [seconds])
            let tempIDs = db.changesCount
            try db.execute(
                sql: "DELETE FROM loginState WHERE updatedAt < ? AND (blockedUntil IS NULL OR blockedUntil < ?)",
                arguments: [seconds, seconds])
            let loginStates = db.changesCount
            return RetentionReport(
                uploads: uploads, encounters: encounters, tempIDs: tempIDs, loginStates: loginStates)
        }
    }

    // MARK: Trace queries

    public func tracedContacts(of uploader: String) async throws -> [TracedContact] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT encounter.contact AS phone,
                           MIN(COALESCE(encounter.heardAt, encounter.start, upload.receivedAt)) AS first,
                           MAX(COALESCE(encounter.heardAt, encounter.start, upload.receivedAt)) AS last,
                           COUNT(*) AS encounters,
                           GROUP_CONCAT(DISTINCT encounter.tempID) AS tempIDs
                    FROM encounter JOIN upload ON upload.id = encounter.uploadId
                    WHERE upload.uploader = ? AND encounter.contact IS NOT NULL
                    GROUP BY encounter.contact
                    ORDER BY first, phone
                    """, arguments: [uploader])
            return rows.map { row in
                let tempIDs: String = row["tempIDs"] ?? ""
                return TracedContact(
                    phone: row["phone"], firstEncounter: Timestamp(secondsSinceEpoch: row["first"]),
                    lastEncounter: Timestamp(secondsSinceEpoch: row["last"]), encounters: row["encounters"],
                    tempIDs: tempIDs.split(separator: ",").map(String.init).sorted())
            }
        }
    }
}

/// Why the store could not be used; says what to do.
public enum StoreError: Error, CustomStringConvertible {
    /// The database file could not be opened or migrated.
    case cannotOpen(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the database \(path): \(reason). Check the path and its permissions, or pass --database PATH."
        }
    }
}

// MARK: - Records (value types, one per table)

private struct AccountRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "account"
    var username: String
    var passwordHash: String
    var createdAt: Int64
    var updatedAt: Int64
}

private struct LoginStateRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "loginState"
    var username: String
    var failures: Int
    var blockedUntil: Int64?
    var updatedAt: Int64

    init(username: String, state: LoginState, updatedAt: Timestamp) {
        self.username = username
        self.failures = state.failures
        self.blockedUntil = state.blockedUntil?.secondsSinceEpoch
        self.updatedAt = updatedAt.secondsSinceEpoch
    }

    var state: LoginState {
        LoginState(failures: failures, blockedUntil: blockedUntil.map(Timestamp.init(secondsSinceEpoch:)))
    }
}

private struct UploadRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "upload"
    var id: Int64?
    var uploader: String
    var receivedAt: Int64
    var entryCount: Int
    var matchedCount: Int

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
