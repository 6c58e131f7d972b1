import Logging
import ServiceLifecycle

/// Looks at the server key file every `interval` until shutdown and starts using its keys when it changed, so a
/// rotation by another instance or by `bluetrace keys rotate` is picked up within seconds (one `stat` per look).
public struct KeyFileWatcher: Service {
    /// How often the file is looked at unless told otherwise.
    public static let defaultInterval: Duration = .seconds(5)

    private let authority: HealthAuthority
    private let interval: Duration
    private let logger: Logger

    /// Creates the watcher.
    public init(authority: HealthAuthority, interval: Duration = defaultInterval, logger: Logger) {
        self.authority = authority
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        // Shutdown cancels the sleep; the loop then ends normally.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                do {
                    try authority.refreshServerKeys()
                } catch {
                    logger.error(
                        "cannot re-read the server key file; keeping the keys in use", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
