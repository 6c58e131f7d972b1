import Foundation
import Logging
import PostgresNIO

/// A database address as `postgres://user:password@host:port/database` (also `postgresql://`), the form
/// `--database` and `BLUETRACE_DATABASE` take.
public struct PostgresURL: Sendable, Hashable {
    /// The server's host name or address.
    public var host: String
    /// Its port (PostgreSQL's 5432 unless given).
    public var port: Int
    /// The user to connect as.
    public var username: String
    /// The password, if the server asks for one.
    public var password: String?
    /// The database.
    public var database: String

    /// Reads `text`; `nil` when it is not a PostgreSQL URL (a file path, for instance).
    public init?(_ text: String) {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"),
            let components = URLComponents(string: text), let host = components.host, !host.isEmpty,
            let user = components.user, !user.isEmpty
        else { return nil }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : path
    }

    /// The same server and user, another database.
    public func with(database: String) -> PostgresURL {
        var url = self
        url.database = database
        return url
    }

    /// One connection of its own, for `body`: a server that cannot be reached, a wrong password or a missing
    /// database fails at once with the server's words (a pool would keep retrying).
    @discardableResult
    public func withConnection<Result>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: .prefer(try .init(configuration: .makeClientConfiguration())))
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The address without the password, for messages and logs.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// A client configuration for this address (TLS when the server offers it).
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: .prefer(.makeClientConfiguration()))
    }
}
