import ArgumentParser
import BlueTracePostgres
import BlueTraceStore
import Foundation
import Logging

/// `bluetrace migrate`: bring a database's schema up to date without starting a server.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations a database lacks (servers also apply them when they start).")

    @Option(help: "A SQLite file, or postgres://user:password@host:port/database (default: $BLUETRACE_DATABASE).")
    var database = ProcessInfo.processInfo.environment["BLUETRACE_DATABASE"] ?? "bluetrace.sqlite"

    @OptionGroup var common: CommonOptions

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        let logger = Logger(label: "bluetrace.migrate")
        if let url = PostgresURL(database) {
            do {
                try await PostgresStore.migrate(url, logger: logger)
            } catch {
                throw StoreError.unreachable(url: url.redacted, reason: "\(String(reflecting: error))")
            }
            print("The PostgreSQL database \(url.database) on \(url.host):\(url.port) is up to date.")
        } else {
            let store = try SQLiteStore(path: database, exclusive: false)
            await store.close()
            print("The SQLite database \(database) is up to date.")
        }
    }
}
