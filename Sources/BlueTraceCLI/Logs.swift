import ArgumentParser
import Logging
import Synchronization

/// Sets up swift-log once per process: to standard error, at `level`.
enum Logs {
    private static let configured = Mutex(false)

    static func bootstrap(level: Logger.Level) {
        configured.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
