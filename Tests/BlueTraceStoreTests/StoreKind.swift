import BlueTraceDomain
import BlueTracePostgres
import BlueTraceStore
import Foundation
import GRDB
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The server's PostgreSQL address for tests (`.ci/run` starts a throwaway cluster and sets it; see the README).
let testServer = ProcessInfo.processInfo.environment["BLUETRACE_TEST_POSTGRES"].flatMap(PostgresURL.init)

let quiet: Logger = {
    var logger = Logger(label: "bluetrace.test.postgres")
    logger.logLevel = .critical
    return logger
}()

/// A database of its own for one test, on the test server: created, migrated, handed out, dropped.
func withDatabase(
    stores count: Int = 1, _ body: ([PostgresStore]) async throws -> Void
) async throws {
    let server = try #require(testServer)
    let name = "bluetrace_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    try await server.withConnection(logger: quiet) {
        try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: quiet)
    }
    try await withThrowingDiscardingTaskGroup { group in
        // Several stores on one database stand for several servers: each has a pool of its own.
        let clients = (0..<count).map { _ in
            PostgresClient(configuration: server.with(database: name).clientConfiguration, backgroundLogger: quiet)
        }
        for client in clients { group.addTask { await client.run() } }
        // Tests race dozens of transactions on one row through a pool of 20: on a loaded machine the queue can
        // outlast the server's 5 s wait for a connection, which is about availability, not what these tests check.
        let stores = clients.map { PostgresStore(client: $0, connectionWait: .seconds(120), logger: quiet) }
        // Two servers starting at once: the advisory lock applies each migration once.
        try await withThrowingTaskGroup { migrations in
            for store in stores { migrations.addTask { try await store.migrate() } }
            try await migrations.waitForAll()
        }
        do {
            try await body(stores)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
    try await server.withConnection(logger: quiet) {
        try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: quiet)
    }
}

/// A kind of store the generic store tests run against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    /// The kinds this run can test: PostgreSQL only when BLUETRACE_TEST_POSTGRES names a server.
    static var available: [StoreKind] { testServer == nil ? [.sqlite] : allCases }

    var testDescription: String { rawValue }

    /// The table of traced contacts: SQLite keeps an upload's in one block (a row per upload), PostgreSQL a row per
    /// contact.
    var contactTable: String {
        switch self {
        case .sqlite: "uploadContacts"
        case .postgres: "contact"
        }
    }

    /// A query of how many TempID mappings are stored: SQLite keeps them in blocks (a row per batch), PostgreSQL a
    /// row per mapping.
    var tempIDCount: String {
        switch self {
        case .sqlite: "SELECT COALESCE(SUM(count), 0) FROM tempIDBlock"
        case .postgres: "SELECT COUNT(*) FROM tempID"
        }
    }

    /// The column of `contactTable` naming its upload.
    var uploadColumn: String {
        switch self {
        case .sqlite: "uploadId"
        case .postgres: "upload_id"
        }
    }

    /// Runs `body` with a fresh, empty store of this kind (an in-memory SQLite database, or a PostgreSQL database of
    /// its own, dropped after).
    func withStore(_ body: (any AuthorityStore) async throws -> Void) async throws {
        switch self {
        case .sqlite: try await body(try SQLiteStore())
        case .postgres: try await BlueTraceStoreTests.withDatabase { try await body($0[0]) }
        }
    }

    /// Runs `body` with a fresh, empty database of this kind that outlives the stores opened on it, as a server's
    /// database outlives the server: a SQLite file (removed after) or a PostgreSQL database of its own (dropped after).
    func withDatabase(_ body: (StoreDatabase) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let path = temporaryPath()
            defer { removeDatabase(path) }
            try await body(
                StoreDatabase(
                    open: { try SQLiteStore(path: path) },
                    integer: { sql in try await DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: sql) ?? 0 } }
                ))
        case .postgres:
            // Pools made up front, handed out in turn; the last one only reads, past every store.
            try await BlueTraceStoreTests.withDatabase(stores: StoreDatabase.postgresStores + 1) { stores in
                let opened = Mutex(0)
                let reader = stores[StoreDatabase.postgresStores].client
                try await body(
                    StoreDatabase(
                        open: {
                            let next = opened.withLock { count in
                                defer { count += 1 }
                                return count
                            }
                            guard next < StoreDatabase.postgresStores else { throw StoreDatabase.TooManyStores() }
                            return stores[next]
                        },
                        integer: { sql in
                            var value = 0
                            for try await found in try await reader.query(PostgresQuery(unsafeSQL: sql), logger: quiet)
                                .decode(Int64.self)
                            {
                                value = Int(found)
                            }
                            return value
                        }))
            }
        }
    }
}

/// A database that outlives the stores opened on it (`StoreKind.withDatabase`): for tests of what is committed, and
/// of what a store opened later (a server restarting, or another server) finds.
struct StoreDatabase: Sendable {
    /// How many stores a test may open on a PostgreSQL database.
    static let postgresStores = 3

    /// More stores were opened than `postgresStores`.
    struct TooManyStores: Error {}

    /// Opens a store on the database, as a server starting does (SQLite: the file, writing, so close the store
    /// opened before it first; PostgreSQL: a pool of its own).
    let open: @Sendable () async throws -> any AuthorityStore
    /// Runs `sql`, a query of one integer (such as `tempIDCount`), on a connection
    /// of its own, past every store: it sees what was committed.
    let integer: @Sendable (String) async throws -> Int
}

/// A path for a SQLite database file of its own in the temporary directory.
func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("bluetrace-store-\(UUID().uuidString).sqlite").path
}

/// Removes the SQLite database at `path` with its log, shared memory and lock files.
func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm", "-server.lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}
