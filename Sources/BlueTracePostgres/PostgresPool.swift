import Logging
import PostgresNIO
import ServiceLifecycle

/// A PostgreSQL connection pool as a service of the server's group: it runs from the moment it is made (the
/// composition root migrates and imports before the group starts), until the group shuts down.
public final class PostgresPool: Service {
    /// The pool.
    public let client: PostgresClient
    private let running: Task<Void, Never>

    /// Starts a pool for `url`.
    public init(url: PostgresURL, logger: Logger) {
        let client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: logger)
        self.client = client
        running = Task { await client.run() }
    }

    /// Waits for the group's shutdown (the servers before it in the group have stopped by then), then ends the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }

    /// Ends the pool now.
    public func close() {
        running.cancel()
    }
}
