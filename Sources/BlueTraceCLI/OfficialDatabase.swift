import ArgumentParser
import BlueTracePostgres
import BlueTraceStore
import Foundation
import Logging

/// The store an official's command (`trace`, `audit`, `authority issue-code`) works on, beside running servers: a
/// SQLite file opened without the server's lock, or a PostgreSQL database through a pool of its own.
enum OfficialDatabase {
    /// Runs `body` on the store at `database` (a path or a postgres:// URL), then closes it; a SQLite file that does
    /// not exist is an error unless `create` says to make it.
    static func with<Result>(
        _ database: String, create: Bool = false, logger: Logger, _ body: (any AuthorityStore) async throws -> Result
    ) async throws -> Result {
        if let url = PostgresURL(database) {
            do {
                try await PostgresStore.migrate(url, logger: logger)
            } catch {
                throw StoreError.unreachable(url: url.redacted, reason: "\(String(reflecting: error))")
            }
            let pool = PostgresPool(url: url, logger: logger)
            defer { pool.close() }
            return try await body(PostgresStore(client: pool.client, logger: logger))
        }
        guard create || FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("no database at \(database); pass --database PATH (the server's --database).")
        }
        let store = try SQLiteStore(path: database, exclusive: false)
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// The default `--database`: `$BLUETRACE_DATABASE`, else the server's default file.
    static var standard: String { ProcessInfo.processInfo.environment["BLUETRACE_DATABASE"] ?? "bluetrace.sqlite" }
}
