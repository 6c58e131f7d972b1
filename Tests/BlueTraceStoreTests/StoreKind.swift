import BlueTraceDomain
import BlueTracePostgres
import BlueTraceStore
import Foundation
import Logging
import PostgresNIO
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

    /// Runs `body` with a fresh, empty store of this kind (an in-memory SQLite database, or a PostgreSQL database of
    /// its own, dropped after).
    func withStore(_ body: (any AuthorityStore) async throws -> Void) async throws {
        switch self {
        case .sqlite: try await body(try SQLiteStore())
        case .postgres: try await withDatabase { try await body($0[0]) }
        }
    }
}
