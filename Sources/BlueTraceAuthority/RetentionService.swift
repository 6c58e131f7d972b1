import Logging
import ServiceLifecycle

/// Deletes data past retention at start and then every `interval`, until shutdown.
public struct RetentionService: Service {
    private let authority: HealthAuthority
    private let interval: Duration
    private let logger: Logger

    /// Creates the service.
    public init(authority: HealthAuthority, interval: Duration = .seconds(300), logger: Logger) {
        self.authority = authority
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        // Shutdown cancels the sleep; the loop then ends normally (a thrown CancellationError would count as failure).
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await authority.enforceRetention()
                } catch {
                    logger.error("retention run failed; will try again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
