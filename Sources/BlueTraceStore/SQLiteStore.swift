import BlueTraceDomain
import Foundation
import GRDB
import Synchronization

/// The embedded default store: one SQLite file through GRDB, in WAL mode, schema kept by migrations.
///
/// GRDB runs every access on its own serial writer queue or reader pool, never on a NIO event loop.
/// TempIDs are appended to a table in blocks, in the order they are issued, and found through `TempIDIndex`, kept in
/// memory: the process that issues TempIDs must be the only one writing them, so a server holds the database's lock
/// file (`<path>-server.lock`) for as long as the store is open.
public final class SQLiteStore: AuthorityStore {
    private let writer: any DatabaseWriter
    /// Where each stored TempID lives; `nil` until first needed. Changed only on the writer queue, after the
    /// transaction it mirrors has committed.
    private let tempIDIndex = Mutex<TempIDIndex?>(nil)
    private let lock: ServerLock?
    /// Runs the WAL checkpoints after commits instead of inside them (`nil` for an in-memory database).
    private let checkpointer: WALCheckpointer?
    /// Set by `close()`: a readiness check then says so instead of using the closed database.
    private let closed = Mutex(false)
    /// About how many bytes of an upload's traced contacts go into one block (`ContactBlock.parts`).
    private let contactPartBytes: Int
    /// The part size a store uses unless a test asks for another: 4 MiB, about 20,000 contacts heard through ten
    /// TempIDs each, small enough that encoding a part just before its insert never holds a huge upload's contacts
    /// twice.
    static let defaultContactPartBytes = 4 << 20

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// An `exclusive` store (a server's) takes the database's lock, failing when another server holds it, and loads
    /// its TempID index at once; a store that is not (`bluetrace trace`, which only reads) does neither.
    public convenience init(path: String, exclusive: Bool = true) throws(StoreError) {
        try self.init(path: path, exclusive: exclusive, checkpointAfterPages: 10_000)
    }

    /// Opens the store as `init(path:exclusive:)` does, asking for a WAL checkpoint whenever the log holds
    /// `checkpointAfterPages` pages, and writing an upload's contacts in blocks of about `contactPartBytes` bytes
    /// (tests use small numbers).
    init(
        path: String, exclusive: Bool, checkpointAfterPages: Int32, contactPartBytes: Int = defaultContactPartBytes
    ) throws(StoreError) {
        self.contactPartBytes = contactPartBytes
        lock = exclusive ? try ServerLock(databasePath: path) : nil
        let checkpointer = WALCheckpointer(path: path, threshold: checkpointAfterPages)
        self.checkpointer = checkpointer
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
                    checkpointer.install(on: db)
                }
                try db.execute(sql: "PRAGMA mmap_size = 4294967296")
            }
            writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
            if exclusive { try writer.read { db in try withIndex(loadingWith: db) { _ in } } }
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Opens a private in-memory database (for tests and simulations).
    public init() throws(StoreError) {
        contactPartBytes = Self.defaultContactPartBytes
        lock = nil
        checkpointer = nil
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
        migrator.registerMigration("v6: TempIDs appended in issue order, found through an index in memory") { db in
            // A B-tree keyed by a random 20-digit number puts every new TempID on a random page: storing one cost
            // about four times as much as appending it (docs/DATA-MODEL.md). Rows now follow the order of issue, and
            // `TempIDIndex` maps TempIDs to rows; expiry follows issue order, so its index is appended to as well.
            try db.execute(
                sql: """
                    CREATE TABLE tempID_v6 (
                        id INTEGER PRIMARY KEY,
                        tempID TEXT NOT NULL, username TEXT NOT NULL, start INTEGER NOT NULL, expiry INTEGER NOT NULL,
                        issuedAt INTEGER NOT NULL, imported BOOLEAN NOT NULL DEFAULT 0);
                    INSERT INTO tempID_v6 (tempID, username, start, expiry, issuedAt, imported)
                        SELECT tempID, username, start, expiry, issuedAt, imported FROM tempID ORDER BY issuedAt, tempID;
                    DROP TABLE tempID;
                    ALTER TABLE tempID_v6 RENAME TO tempID;
                    CREATE INDEX tempID_on_expiry ON tempID(expiry);
                    """)
        }
        migrator.registerMigration("v7: an upload's entries in one block, a row per traced contact") { db in
            // A row per uploaded entry made storing a million-entry upload cost seconds; what is read back is the
            // traced contacts (bluetrace trace, the console) and, for a case, the entries themselves.
            try db.execute(
                sql: """
                    ALTER TABLE upload ADD COLUMN entries BLOB;
                    CREATE TABLE contact (
                        uploadId INTEGER NOT NULL REFERENCES upload(id) ON DELETE CASCADE,
                        phone TEXT NOT NULL, firstEncounter INTEGER NOT NULL, lastEncounter INTEGER NOT NULL,
                        encounters INTEGER NOT NULL, tempIDs TEXT NOT NULL,
                        PRIMARY KEY (uploadId, phone)) WITHOUT ROWID;
                    """)
            let uploads = try Row.fetchAll(db, sql: "SELECT id, uploader, receivedAt FROM upload")
            let select = try RawStatement(
                db,
                sql: """
                    SELECT tempID, start, expiry, heardAt, contact, verdict, detail FROM encounter
                    WHERE uploadId = ? ORDER BY id
                    """)
            for upload in uploads {
                let id: Int64 = upload["id"]
                select.bind(id, at: 1)
                var encounters: [StoredEncounter] = []
                while try select.step() { encounters.append(select.storedEncounter()) }
                select.reset()
                try Self.storeEntriesWithContactRows(
                    of: UploadRecord(
                        uploader: upload["uploader"], receivedAt: Timestamp(secondsSinceEpoch: upload["receivedAt"]),
                        encounters: encounters),
                    id: id, in: db)
            }
            try db.execute(sql: "DROP TABLE encounter")
        }
        migrator.registerMigration("v8: one-time upload codes and the audit trail") { db in
            try db.execute(
                sql: """
                    CREATE TABLE uploadCode (
                        phone TEXT NOT NULL, keyID INTEGER NOT NULL, mac BLOB NOT NULL,
                        issuedAt INTEGER NOT NULL, expiresAt INTEGER NOT NULL,
                        PRIMARY KEY (phone, mac)) WITHOUT ROWID;
                    CREATE TABLE uploadCodeAttempt (
                        phone TEXT PRIMARY KEY, failures INTEGER NOT NULL, updatedAt INTEGER NOT NULL);
                    CREATE TABLE auditEvent (
                        id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                        subject TEXT, detail TEXT NOT NULL);
                    CREATE INDEX auditEvent_on_at ON auditEvent(at);
                    """)
        }
        migrator.registerMigration("v9: exposure notices") { db in
            try db.execute(
                sql: """
                    CREATE TABLE notice (
                        id INTEGER PRIMARY KEY, phone TEXT NOT NULL, lastEncounter INTEGER NOT NULL,
                        createdAt INTEGER NOT NULL, deliveredAt INTEGER);
                    CREATE INDEX notice_pending ON notice(phone) WHERE deliveredAt IS NULL;
                    CREATE INDEX notice_on_createdAt ON notice(createdAt);
                    """)
        }
        migrator.registerMigration("v10: health officials' console accounts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE official (
                        name TEXT PRIMARY KEY, passwordHash TEXT NOT NULL, createdAt INTEGER NOT NULL,
                        failures INTEGER NOT NULL DEFAULT 0, blockedUntil INTEGER, updatedAt INTEGER NOT NULL);
                    """)
        }
        migrator.registerMigration("v11: an upload's traced contacts in one block") { db in
            // A row per contact cost most of storing a large upload (docs/BENCHMARKS.md, round 12); contacts are only
            // read by upload, so each upload's are kept together (`ContactBlock`, a row per few megabytes of them),
            // in the order of their rows.
            try db.execute(
                sql: """
                    CREATE TABLE uploadContacts (
                        id INTEGER PRIMARY KEY,
                        uploadId INTEGER NOT NULL REFERENCES upload(id) ON DELETE CASCADE,
                        contacts BLOB NOT NULL);
                    CREATE INDEX uploadContacts_on_upload ON uploadContacts(uploadId);
                    """)
            let select = try RawStatement(
                db,
                sql: """
                    SELECT uploadId, phone, firstEncounter, lastEncounter, encounters, tempIDs FROM contact
                    ORDER BY uploadId, phone
                    """)
            var pending: (uploadId: Int64, contacts: [TracedContact])?
            func flush() throws {
                guard let (uploadId, contacts) = pending else { return }
                try Self.storeContacts(contacts, uploadID: uploadId, partBytes: Self.defaultContactPartBytes, in: db)
            }
            while try select.step() {
                let uploadId = select.int64(at: 0)
                if pending?.uploadId != uploadId {
                    try flush()
                    pending = (uploadId, [])
                }
                let tempIDs = select.text(at: 5)
                pending?.contacts.append(
                    TracedContact(
                        phone: select.text(at: 1), firstEncounter: Timestamp(secondsSinceEpoch: select.int64(at: 2)),
                        lastEncounter: Timestamp(secondsSinceEpoch: select.int64(at: 3)),
                        encounters: Int(select.int64(at: 4)),
                        // Only traced TempIDs were ever listed, and a TempID never holds a comma.
                        tempIDs: tempIDs.split(separator: ",").compactMap { TempID($0) }))
            }
            try flush()
            try db.execute(sql: "DROP TABLE contact")
        }
        migrator.registerMigration("v12: TempID mappings in blocks") { db in
            // A row per mapping cost about 5 µs in SQLite and the kernel alone: 50 s to load ten million
            // (docs/BENCHMARKS.md, round 15). A block holds an issued batch, or up to 65,536 mappings of an import.
            try db.execute(
                sql: """
                    CREATE TABLE tempIDBlock (
                        id INTEGER PRIMARY KEY,
                        count INTEGER NOT NULL, firstExpiry INTEGER NOT NULL, lastExpiry INTEGER NOT NULL,
                        issuedAt INTEGER NOT NULL, imported BOOLEAN NOT NULL, mappings BLOB NOT NULL);
                    CREATE INDEX tempIDBlock_on_firstExpiry ON tempIDBlock(firstExpiry) WHERE NOT imported;
                    """)
            // The rows in the order they were stored, a block per run of one batch (their time of issue and whether
            // imported); a TempID stored twice keeps its first mapping, as the index always did.
            let select = try RawStatement(
                db, sql: "SELECT tempID, username, start, expiry, issuedAt, imported FROM tempID ORDER BY id")
            let insert = try TempIDBlockInsert(db)
            var batch: (issuedAt: Int64, imported: Bool, grants: [TempIDGrant])?
            func flush() throws {
                guard let batch else { return }
                var all = [Bool](repeating: true, count: batch.grants.count)
                try TempIDBlock.encode(batch.grants, where: &all) {
                    try insert($0, issuedAt: Timestamp(secondsSinceEpoch: batch.issuedAt), imported: batch.imported)
                }
            }
            while try select.step() {
                guard let tempID = TempID(select.text(at: 0)) else { continue }
                let (issuedAt, imported) = (select.int64(at: 4), select.int64(at: 5) != 0)
                if let current = batch,
                    current.issuedAt != issuedAt || current.imported != imported
                        || current.grants.count == TempIDBlock.capacity
                {
                    try flush()
                    batch = nil
                }
                if batch == nil { batch = (issuedAt, imported, []) }
                batch!.grants.append(
                    TempIDGrant(
                        user: select.text(at: 1), tempID: tempID,
                        validity: ValidityWindow(
                            start: Timestamp(secondsSinceEpoch: select.int64(at: 2)),
                            expiry: Timestamp(secondsSinceEpoch: select.int64(at: 3)))))
            }
            try flush()
            try db.execute(sql: "DROP TABLE tempID")
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
            completion(Result { try self.appendNew(grants, imported: false, issuedAt: time, in: db) })
        }
    }

    public func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) async throws -> Int {
        try await writer.writeWithoutTransaction { db in
            try self.appendNew(grants, imported: true, issuedAt: time, in: db).reduce(0) { $1 ? $0 + 1 : $0 }
        }
    }

    /// Appends, in one transaction, those of `grants` that are not stored yet (the first mapping of a TempID wins),
    /// in blocks (`TempIDBlock`), indexes them once it has committed, and tells for each grant whether it was new.
    /// Runs on the writer queue, the only place the index changes, so nothing can store the same TempID between the
    /// check and the commit.
    private func appendNew(
        _ grants: [TempIDGrant], imported: Bool, issuedAt time: Timestamp, in db: Database
    ) throws -> [Bool] {
        // Each new grant's user is numbered by the index here, once: the block and the index entry both use it.
        var users = [UInt32](repeating: 0, count: grants.count)
        var isNew = try withIndex(loadingWith: db) { index in
            grants.indices.map { position in
                guard !index.contains(grants[position].tempID) else { return false }
                users[position] = index.number(of: grants[position].user)
                return true
            }
        }
        try db.inTransaction {
            let insert = try TempIDBlockInsert(db)
            try TempIDBlock.encode(grants, users: users, where: &isNew) { block in
                try insert(block, issuedAt: time, imported: imported)
            }
            return .commit
        }
        try withIndex(loadingWith: db) { index in
            for (position, grant) in grants.enumerated() where isNew[position] {
                index.insert(grant, user: users[position])
            }
        }
        return isNew
    }

    /// Runs `body` on the TempID index under its lock, reading it from the `tempIDBlock` table through `db` first if
    /// this is its first use.
    private func withIndex<Result>(
        loadingWith db: Database, _ body: (inout TempIDIndex) throws -> Result
    ) throws -> Result {
        try tempIDIndex.withLock { index in
            if index == nil { index = try Self.loadIndex(db) }
            return try body(&index!)
        }
    }

    /// The index of every TempID in the `tempIDBlock` table (the first mapping of a TempID stored twice).
    private static func loadIndex(_ db: Database) throws -> TempIDIndex {
        var loader = TempIDIndex.Loader(
            capacity: try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM tempIDBlock") ?? 0)
        let select = try RawStatement(db, sql: "SELECT mappings FROM tempIDBlock ORDER BY id")
        while try select.step() {
            try select.withBlob(at: 0) { bytes throws(CorruptBlock) in try TempIDBlock.load(bytes, into: &loader) }
        }
        return loader.finish()
    }

    public func grants(of tempIDs: [TempID]) async throws -> [TempIDGrant?] {
        guard !tempIDs.isEmpty else { return [] }
        let order = Self.lookupOrder(tempIDs)
        // From the index alone, in slices so that TempIDs can be issued between them (an insert may merge the index,
        // so each slice starts its search afresh).
        return try await writer.read { db in
            var found = [TempIDGrant?](repeating: nil, count: tempIDs.count)
            let halves = order.decimal.count >= Self.lookupsSearchedInHalves ? 2 : 1
            try found.withUnsafeMutableBufferPointer { answers in
                let shared = SharedAnswers(answers: answers)
                for start in stride(from: 0, to: order.decimal.count, by: 16_384) {
                    let slice = order.decimal[start..<min(start + 16_384, order.decimal.count)]
                    try self.withIndex(loadingWith: db) { index in
                        // Searched in halves side by side through a copy of the index, which shares its storage:
                        // nothing changes it while the lock is held, and the copy is gone before it is let go.
                        let snapshot = index
                        let half = (slice.count + halves - 1) / halves
                        DispatchQueue.concurrentPerform(iterations: halves) { part in
                            let from = slice.startIndex + part * half
                            Self.search(
                                slice[from..<min(from + half, slice.endIndex)], of: tempIDs, in: snapshot,
                                into: shared)
                        }
                    }
                }
            }
            if !order.others.isEmpty {
                try self.withIndex(loadingWith: db) { index in
                    for position in order.others { found[position] = index.grant(of: tempIDs[position]) }
                }
            }
            return found
        }
    }

    /// Lookups of at least this many 20-digit TempIDs are searched in two halves side by side.
    static let lookupsSearchedInHalves = 65_536

    /// The answers being written by the halves of a search.
    ///
    /// `@unchecked Sendable`, and safe: each half writes only the positions of its own TempIDs (every position is in
    /// one half only), and `concurrentPerform` returns before the buffer's scope ends.
    private struct SharedAnswers: @unchecked Sendable {
        let answers: UnsafeMutableBufferPointer<TempIDGrant?>
    }

    /// Searches `index` for the TempIDs of `sorted` (in the index's order), writing each answer at its position.
    private static func search(
        _ sorted: ArraySlice<(key: TempIDIndex.Key, position: Int)>, of tempIDs: [TempID], in index: TempIDIndex,
        into shared: SharedAnswers
    ) {
        var lowerBound = 0
        var previous: (key: TempIDIndex.Key, grant: TempIDGrant?)?
        for (key, position) in sorted {
            // The same TempID again (sorted, its entries are neighbours): the same answer.
            if let previous, previous.key == key {
                shared.answers[position] = previous.grant
                continue
            }
            let grant = index.grant(of: key, tempID: tempIDs[position], searchingFrom: &lowerBound)
            shared.answers[position] = grant
            previous = (key, grant)
        }
    }

    /// The order to search the index in: the positions of the 20-digit TempIDs sorted by their `decimalHalves` (the
    /// order of their text, and of the index, so neighbouring searches touch the same memory), then the positions of
    /// any other TempIDs. Comparing the halves costs a fraction of comparing strings: for a million-entry upload,
    /// 0.1 s instead of 2 s.
    static func lookupOrder(_ tempIDs: [TempID]) -> (decimal: [(key: TempIDIndex.Key, position: Int)], others: [Int]) {
        var decimal: [(key: TempIDIndex.Key, position: Int)] = []
        decimal.reserveCapacity(tempIDs.count)
        var others: [Int] = []
        for (position, tempID) in tempIDs.enumerated() {
            if let halves = tempID.decimalHalves {
                decimal.append((TempIDIndex.Key(high: halves.high, low: halves.low), position))
            } else {
                others.append(position)
            }
        }
        decimal.sort { $0.key < $1.key }
        return (decimal, others)
    }

    // MARK: Uploads

    public func recordUpload(_ upload: UploadRecord, audit: [AuditEntry]) async throws -> Int64 {
        // The record holds its entries already encoded: the writer queue is busy only for the rows themselves (and
        // the contacts' blocks, encoded a part at a time so that a huge upload's are never all held twice).
        let block = upload.block.bytes
        let contacts = upload.tracedContacts
        let partBytes = contactPartBytes
        return try await writer.write { db in
            var row = UploadRow(
                id: nil, uploader: upload.uploader, receivedAt: upload.receivedAt.secondsSinceEpoch,
                entryCount: upload.entryCount, matchedCount: upload.matchedCount)
            try row.insert(db)
            try Self.storeEntries(block, uploadID: row.id!, in: db)
            try Self.storeContacts(contacts, uploadID: row.id!, partBytes: partBytes, in: db)
            try Self.insertAudit(audit, in: db)
            return row.id!
        }
    }

    /// Stores the encoded entries `block` in the row of the upload `uploadID`.
    private static func storeEntries(_ block: [UInt8], uploadID: Int64, in db: Database) throws {
        let update = try RawStatement(db, sql: "UPDATE upload SET entries = ? WHERE id = ?")
        update.bind(uploadID, at: 2)
        try update.run(bindingBlob: block, at: 1)
    }

    /// Stores the traced contacts of the upload whose row is `uploadID`, as one block per `partBytes` bytes or so of
    /// them (none for an upload that traced nobody), in their order.
    private static func storeContacts(
        _ contacts: [TracedContact], uploadID: Int64, partBytes: Int, in db: Database
    ) throws {
        guard !contacts.isEmpty else { return }
        let insert = try RawStatement(db, sql: "INSERT INTO uploadContacts (uploadId, contacts) VALUES (?, ?)")
        insert.bind(uploadID, at: 1)
        for part in ContactBlock.parts(of: contacts, bytes: partBytes) {
            try insert.run(bindingBlob: ContactBlock(contacts[part]).bytes, at: 2)
        }
    }

    /// Stores the entries block and the traced contacts, a row each, of the upload whose row is `id`: the schema of
    /// migrations v7 to v10, kept for migration v7 (a shipped migration never changes).
    private static func storeEntriesWithContactRows(of upload: UploadRecord, id: Int64, in db: Database) throws {
        try storeEntries(upload.block.bytes, uploadID: id, in: db)
        let insert = try RawStatement(
            db,
            sql: """
                INSERT INTO contact (uploadId, phone, firstEncounter, lastEncounter, encounters, tempIDs)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        insert.bind(id, at: 1)
        for contact in upload.tracedContacts {
            insert.bind(contact.phone, at: 2)
            insert.bind(contact.firstEncounter.secondsSinceEpoch, at: 3)
            insert.bind(contact.lastEncounter.secondsSinceEpoch, at: 4)
            insert.bind(Int64(contact.encounters), at: 5)
            insert.bind(contact.tempIDList, at: 6)
            try insert.run()
        }
    }

    public func upload(id: Int64) async throws -> UploadRecord? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT uploader, receivedAt, entries FROM upload WHERE id = ?", arguments: [id])
            else { return nil }
            let block: Data = row["entries"] ?? Data()
            return UploadRecord(
                uploader: row["uploader"], receivedAt: Timestamp(secondsSinceEpoch: row["receivedAt"]),
                encounters: try EncounterBlock.encounters(in: [UInt8](block)))
        }
    }

    // MARK: Retention

    public func deleteData(olderThan cutoff: Timestamp) async throws -> RetentionReport {
        let seconds = cutoff.secondsSinceEpoch
        return try await writer.writeWithoutTransaction { db in
            var report = RetentionReport(uploads: 0, encounters: 0, tempIDs: 0, loginStates: 0)
            var deletedTempIDs: [TempID] = []
            try db.inTransaction {
                report.encounters =
                    try Int.fetchOne(
                        db, sql: "SELECT COALESCE(SUM(entryCount), 0) FROM upload WHERE receivedAt < ?",
                        arguments: [seconds]) ?? 0
                try db.execute(sql: "DELETE FROM upload WHERE receivedAt < ?", arguments: [seconds])
                report.uploads = db.changesCount
                deletedTempIDs = try Self.deleteTempIDs(expiredBefore: seconds, in: db)
                report.tempIDs = deletedTempIDs.count
                try db.execute(
                    sql: "DELETE FROM loginState WHERE updatedAt < ? AND (blockedUntil IS NULL OR blockedUntil < ?)",
                    arguments: [seconds, seconds])
                report.loginStates = db.changesCount
                try db.execute(sql: "DELETE FROM uploadCode WHERE expiresAt < ?", arguments: [seconds])
                try db.execute(
                    sql: "DELETE FROM uploadCodeAttempt WHERE phone NOT IN (SELECT phone FROM uploadCode)")
                try db.execute(sql: "DELETE FROM notice WHERE createdAt < ?", arguments: [seconds])
                try db.execute(sql: "DELETE FROM auditEvent WHERE at < ?", arguments: [seconds])
                report.auditEntries = db.changesCount
                return .commit
            }
            try self.withIndex(loadingWith: db) { index in index.remove(deletedTempIDs) }
            return report
        }
    }

    /// Deletes the issued TempIDs (not those imported) whose windows expired before `seconds`, and returns them: a
    /// block whose last expiry has passed goes whole, one that straddles `seconds` is written again without them.
    private static func deleteTempIDs(expiredBefore seconds: Int64, in db: Database) throws -> [TempID] {
        var deleted: [TempID] = []
        var straddling: [(id: Int64, issuedAt: Timestamp, kept: [TempIDGrant])] = []
        do {
            let select = try RawStatement(
                db,
                sql: """
                    SELECT id, lastExpiry < ?1, issuedAt, mappings FROM tempIDBlock
                    WHERE firstExpiry < ?1 AND NOT imported
                    """)
            select.bind(seconds, at: 1)
            while try select.step() {
                if select.int64(at: 1) != 0 {
                    deleted += try select.withBlob(at: 3) { bytes throws(CorruptBlock) in
                        try TempIDBlock.tempIDs(in: bytes)
                    }
                    continue
                }
                let grants = try select.withBlob(at: 3) { bytes throws(CorruptBlock) in
                    try TempIDBlock.grants(in: bytes)
                }
                var kept: [TempIDGrant] = []
                for grant in grants {
                    if grant.validity.expiry.secondsSinceEpoch < seconds {
                        deleted.append(grant.tempID)
                    } else {
                        kept.append(grant)
                    }
                }
                straddling.append((select.int64(at: 0), Timestamp(secondsSinceEpoch: select.int64(at: 2)), kept))
            }
        }
        try db.execute(
            sql: "DELETE FROM tempIDBlock WHERE firstExpiry < ? AND NOT imported", arguments: [seconds])
        let insert = try TempIDBlockInsert(db)
        for block in straddling {
            var all = [Bool](repeating: true, count: block.kept.count)
            try TempIDBlock.encode(block.kept, where: &all) {
                try insert($0, issuedAt: block.issuedAt, imported: false)
            }
        }
        return deleted
    }

    // MARK: Upload codes and the audit trail

    public func updateUploadCodes<Result: Sendable>(
        for phone: String, at time: Timestamp, _ change: @Sendable (inout UploadCodeLedger) -> Result
    ) async throws -> Result {
        try await writer.write { db in
            let pending = try Row.fetchAll(
                db, sql: "SELECT keyID, mac, issuedAt, expiresAt FROM uploadCode WHERE phone = ? ORDER BY issuedAt",
                arguments: [phone]
            ).map { row in
                let mac: Data = row["mac"]
                return PendingUploadCode(
                    keyID: row["keyID"], mac: [UInt8](mac), issuedAt: Timestamp(secondsSinceEpoch: row["issuedAt"]),
                    expiresAt: Timestamp(secondsSinceEpoch: row["expiresAt"]))
            }
            let failures =
                try Int.fetchOne(db, sql: "SELECT failures FROM uploadCodeAttempt WHERE phone = ?", arguments: [phone])
                ?? 0
            var ledger = UploadCodeLedger(pending: pending, failures: failures)
            let result = change(&ledger)
            try db.execute(sql: "DELETE FROM uploadCode WHERE phone = ?", arguments: [phone])
            for code in ledger.pending {
                try db.execute(
                    sql: "INSERT INTO uploadCode (phone, keyID, mac, issuedAt, expiresAt) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        phone, code.keyID, Data(code.mac), code.issuedAt.secondsSinceEpoch,
                        code.expiresAt.secondsSinceEpoch,
                    ])
            }
            if ledger.failures == 0 {
                try db.execute(sql: "DELETE FROM uploadCodeAttempt WHERE phone = ?", arguments: [phone])
            } else {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO uploadCodeAttempt (phone, failures, updatedAt) VALUES (?, ?, ?)",
                    arguments: [phone, ledger.failures, time.secondsSinceEpoch])
            }
            return result
        }
    }

    public func recordNotices(
        _ contacts: [(phone: String, lastEncounter: Timestamp)], at time: Timestamp
    ) async throws -> [ExposureNotice] {
        guard !contacts.isEmpty else { return [] }
        return try await writer.write { db in
            try contacts.map { contact in
                try db.execute(
                    sql: "INSERT INTO notice (phone, lastEncounter, createdAt) VALUES (?, ?, ?)",
                    arguments: [contact.phone, contact.lastEncounter.secondsSinceEpoch, time.secondsSinceEpoch])
                return ExposureNotice(
                    id: db.lastInsertedRowID, phone: contact.phone, lastEncounter: contact.lastEncounter,
                    createdAt: time)
            }
        }
    }

    public func pendingNotices(for phone: String) async throws -> [ExposureNotice] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, lastEncounter, createdAt FROM notice WHERE phone = ? AND deliveredAt IS NULL ORDER BY id",
                arguments: [phone]
            ).map { row in
                ExposureNotice(
                    id: row["id"], phone: phone, lastEncounter: Timestamp(secondsSinceEpoch: row["lastEncounter"]),
                    createdAt: Timestamp(secondsSinceEpoch: row["createdAt"]))
            }
        }
    }

    public func markNoticeDelivered(id: Int64, to phone: String, at time: Timestamp) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE notice SET deliveredAt = ? WHERE id = ? AND phone = ? AND deliveredAt IS NULL",
                arguments: [time.secondsSinceEpoch, id, phone])
            return db.changesCount == 1
        }
    }

    public func recordAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await writer.write { db in try Self.insertAudit(entries, in: db) }
    }

    /// Appends `entries` to the audit trail, inside the transaction of `db`.
    private static func insertAudit(_ entries: [AuditEntry], in db: Database) throws {
        for entry in entries {
            try db.execute(
                sql: "INSERT INTO auditEvent (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    entry.at.secondsSinceEpoch, entry.actor, entry.action.rawValue, entry.subject, entry.detail,
                ])
        }
    }

    public func auditTrail(since: Timestamp?) async throws -> [AuditEntry] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT at, actor, action, subject, detail FROM auditEvent WHERE at >= ? ORDER BY at, id",
                arguments: [since?.secondsSinceEpoch ?? Int64.min]
            ).map { row in
                AuditEntry(
                    at: Timestamp(secondsSinceEpoch: row["at"]), actor: row["actor"],
                    action: AuditAction(rawValue: row["action"]), subject: row["subject"], detail: row["detail"])
            }
        }
    }

    // MARK: The console

    public func ping() async throws {
        guard !closed.withLock({ $0 }) else { throw StoreError.closed }
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func uploads(offset: Int, limit: Int) async throws -> UploadPage {
        try await writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM upload") ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, uploader, receivedAt, entryCount, matchedCount FROM upload
                    ORDER BY id DESC LIMIT ? OFFSET ?
                    """, arguments: [max(0, limit), max(0, offset)])
            return UploadPage(
                total: total,
                uploads: rows.map { row in
                    UploadSummary(
                        id: row["id"], uploader: row["uploader"],
                        receivedAt: Timestamp(secondsSinceEpoch: row["receivedAt"]), entries: row["entryCount"],
                        traced: row["matchedCount"])
                })
        }
    }

    public func auditPage(offset: Int, limit: Int) async throws -> (total: Int, entries: [AuditEntry]) {
        try await writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM auditEvent") ?? 0
            let entries = try Row.fetchAll(
                db,
                sql: """
                    SELECT at, actor, action, subject, detail FROM auditEvent ORDER BY at DESC, id DESC
                    LIMIT ? OFFSET ?
                    """, arguments: [max(0, limit), max(0, offset)]
            ).map { row in
                AuditEntry(
                    at: Timestamp(secondsSinceEpoch: row["at"]), actor: row["actor"],
                    action: AuditAction(rawValue: row["action"]), subject: row["subject"], detail: row["detail"])
            }
            return (total, entries)
        }
    }

    public func noticeStatuses(for phones: [String], since: Timestamp) async throws -> [String: NoticeStatus] {
        guard !phones.isEmpty else { return [:] }
        return try await writer.read { db in
            var latest: [String: NoticeStatus] = [:]
            let select = try db.makeStatement(
                sql: """
                    SELECT id, createdAt, deliveredAt FROM notice WHERE phone = ? AND createdAt >= ?
                    ORDER BY id DESC LIMIT 1
                    """)
            for phone in Set(phones) {
                if let row = try Row.fetchOne(select, arguments: [phone, since.secondsSinceEpoch]) {
                    latest[phone] = NoticeStatus(
                        id: row["id"], createdAt: Timestamp(secondsSinceEpoch: row["createdAt"]),
                        deliveredAt: (row["deliveredAt"] as Int64?).map(Timestamp.init(secondsSinceEpoch:)))
                }
            }
            return latest
        }
    }

    public func official(named name: String) async throws -> OfficialAccount? {
        try await writer.read { db in try Self.official(named: name, in: db) }
    }

    private static func official(named name: String, in db: Database) throws -> OfficialAccount? {
        try Row.fetchOne(
            db, sql: "SELECT passwordHash, createdAt, failures, blockedUntil FROM official WHERE name = ?",
            arguments: [name]
        ).map { row in
            OfficialAccount(
                name: name, passwordHash: row["passwordHash"],
                createdAt: Timestamp(secondsSinceEpoch: row["createdAt"]),
                loginState: LoginState(
                    failures: row["failures"],
                    blockedUntil: (row["blockedUntil"] as Int64?).map(Timestamp.init(secondsSinceEpoch:))))
        }
    }

    public func createOfficial(name: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO official (name, passwordHash, createdAt, updatedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """, arguments: [name, passwordHash, time.secondsSinceEpoch, time.secondsSinceEpoch])
            return db.changesCount == 1
        }
    }

    public func updateOfficialLoginState<Result: Sendable>(
        for name: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result? {
        try await writer.write { db in
            guard var state = try Self.official(named: name, in: db)?.loginState else { return nil }
            let result = change(&state)
            try db.execute(
                sql: "UPDATE official SET failures = ?, blockedUntil = ?, updatedAt = ? WHERE name = ?",
                arguments: [state.failures, state.blockedUntil?.secondsSinceEpoch, time.secondsSinceEpoch, name])
            return result
        }
    }

    // MARK: Maintenance

    public func close() async {
        closed.withLock { $0 = true }
        try? writer.close()
        checkpointer?.close()
        lock?.release()
    }

    /// Writes the WAL back into the database file and empties it (for measurements and file-level backups).
    public func checkpoint() async throws {
        // Through the checkpointer, whose own checkpoints would otherwise make this one fail as "database is locked".
        if let checkpointer, try await checkpointer.checkpoint(.truncate) { return }
        try await writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    // MARK: Trace queries

    public func tracedContacts(of uploader: String) async throws -> [TracedContact] {
        try await writer.read { db in
            let select = try RawStatement(
                db,
                sql: """
                    SELECT uploadContacts.contacts FROM uploadContacts
                    JOIN upload ON upload.id = uploadContacts.uploadId WHERE upload.uploader = ?
                    ORDER BY uploadContacts.id
                    """)
            select.bind(uploader, at: 1)
            var contacts: [TracedContact] = []
            while try select.step() { contacts += try ContactBlock.contacts(in: select.blob(at: 0)) }
            return TracedContact.merged(contacts)
        }
    }
}

/// Why the store could not be used; says what to do.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// The database file could not be opened or migrated.
    case cannotOpen(path: String, reason: String)
    /// Another server has the database open (its lock file is held).
    case inUse(path: String)
    /// A PostgreSQL database could not be reached or used.
    case unreachable(url: String, reason: String)
    /// The database cannot be reached right now (a request's connection broke, or none came in time); what the
    /// request would have stored was not committed. The server keeps running and reconnects.
    case unavailable(reason: String)
    /// The store was closed (the server is stopping).
    case closed

    public var description: String {
        switch self {
        case .closed:
            "the database is closed: the server is stopping."
        case .cannotOpen(let path, let reason):
            "cannot open the database \(path): \(reason). Check the path and its permissions, or pass --database PATH."
        case .unreachable(let url, let reason):
            "cannot use the PostgreSQL database \(url): \(reason). Check that the server runs and the user, password "
                + "and database in --database are right."
        case .unavailable(let reason):
            "the database is unavailable right now (\(reason)); nothing of this request was stored. Try again "
                + "shortly: the server reconnects by itself."
        case .inUse(let path):
            "the database \(path) is in use by another bluetrace server. Stop that server, or give this one a "
                + "database of its own with --database PATH."
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
