import BlueTraceDomain
import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C interface, for the loops that run once per row (bulk TempID
/// imports, an upload's encounters, TempID lookups): values are bound in place, with no argument arrays and no
/// dynamic casts, which is most of the cost of going through GRDB's `StatementArguments` for millions of rows.
///
/// Used only inside one GRDB database access (`read` or `write`), never stored or shared.
struct RawStatement: ~Copyable {
    private let statement: Statement
    private let connection: OpaquePointer?
    private var handle: OpaquePointer { statement.sqliteStatement }

    /// Prepares `sql` on the connection of `db`.
    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        connection = db.sqliteConnection
    }

    /// Binds `value` to parameter `index` (1-based); SQLite copies the text.
    func bind(_ value: String?, at index: Int32) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { bytes in
            _ = sqlite3_bind_text(
                handle, index, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                Int32(bytes.count), sqliteTransient)
        }
    }

    /// Binds `value` to parameter `index` (1-based).
    func bind(_ value: Int64?, at index: Int32) {
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        sqlite3_bind_int64(handle, index, value)
    }

    /// Runs the statement once with `bytes` bound to parameter `index` (1-based) as a blob SQLite reads in place,
    /// without copying it first (a million-entry upload's block is tens of megabytes), then makes it ready to run
    /// again with that parameter unbound.
    func run(bindingBlob bytes: [UInt8], at index: Int32) throws {
        try bytes.withUnsafeBytes { blob in
            // SQLITE_STATIC (no destructor): SQLite reads the bytes only while they are valid, during this step.
            sqlite3_bind_blob(handle, index, blob.baseAddress, Int32(blob.count), nil)
            defer { sqlite3_bind_null(handle, index) }
            try run()
        }
    }

    /// Runs the statement to its next row: `true` when a row is ready to read, `false` when it is done.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            sqlite3_reset(handle)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) },
                sql: statement.sql)
        }
    }

    /// Runs a statement that returns no rows, then makes it ready for the next bindings.
    func run() throws {
        _ = try step()
        reset()
    }

    /// Makes the statement ready to run again (bindings are kept until re-bound).
    func reset() {
        sqlite3_reset(handle)
    }

    /// The text in `column` (0-based) of the current row.
    func text(at column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Runs `body` on the bytes of the text in `column` (0-based) of the current row, valid only during the call.
    func withText<Result>(at column: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        let bytes = sqlite3_column_text(handle, column)
        return body(
            UnsafeBufferPointer(start: bytes, count: bytes == nil ? 0 : Int(sqlite3_column_bytes(handle, column))))
    }

    /// The bytes of the blob in `column` (0-based) of the current row, copied.
    func blob(at column: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))))
    }

    /// Runs `body` on the bytes of the blob in `column` (0-based) of the current row, valid only during the call.
    func withBlob<Result, Failure: Error>(
        at column: Int32, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let bytes = sqlite3_column_blob(handle, column)
        return try body(
            UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : Int(sqlite3_column_bytes(handle, column))))
    }

    /// The integer in `column` (0-based) of the current row.
    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// Whether `column` (0-based) of the current row is NULL.
    func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// An encounter row of schema v5–v6 (`tempID, start, expiry, heardAt, contact, verdict, detail`), for migration v7.
    func storedEncounter() -> StoredEncounter {
        let verdict = text(at: 5)
        return StoredEncounter(
            tempID: isNull(at: 0) ? nil : text(at: 0),
            validity: isNull(at: 1) || isNull(at: 2)
                ? nil
                : ValidityWindow(
                    start: Timestamp(secondsSinceEpoch: int64(at: 1)),
                    expiry: Timestamp(secondsSinceEpoch: int64(at: 2))),
            heardAt: isNull(at: 3) ? nil : Timestamp(secondsSinceEpoch: int64(at: 3)),
            contact: isNull(at: 4) ? nil : text(at: 4),
            unmatchedReason: verdict == "traced" ? nil : UnmatchedReason(rawValue: verdict) ?? .malformed,
            detail: isNull(at: 6) ? nil : text(at: 6))
    }

    /// The number of rows the last run changed.
    var changes: Int { Int(sqlite3_changes(connection)) }

}

/// The one way TempID mappings are written: a block at a time, issued (`imported` false) or read from tempIDs.txt
/// (`imported` true). Whether its TempIDs are new is for the store's `TempIDIndex` to say before.
struct TempIDBlockInsert: ~Copyable {
    private let statement: RawStatement

    /// Prepares the insert on the connection of `db`.
    init(_ db: Database) throws {
        statement = try RawStatement(
            db,
            sql: """
                INSERT INTO tempIDBlock (count, firstExpiry, lastExpiry, issuedAt, imported, mappings)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
    }

    /// Appends `block`.
    func callAsFunction(_ block: TempIDBlock, issuedAt time: Timestamp, imported: Bool) throws {
        statement.bind(Int64(block.count), at: 1)
        statement.bind(block.expiries.lowerBound, at: 2)
        statement.bind(block.expiries.upperBound, at: 3)
        statement.bind(time.secondsSinceEpoch, at: 4)
        statement.bind(imported ? 1 : 0, at: 5)
        try statement.run(bindingBlob: block.bytes, at: 6)
    }
}

/// SQLite's `SQLITE_TRANSIENT`: the text is copied before the bind call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
