import Foundation
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

    /// A client configuration for this address (TLS when the server offers it).
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: .prefer(.makeClientConfiguration()))
    }
}
