import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads TLS certificates on SIGHUP: each `TLSServerContext` reads its files again; connections already open keep
/// their certificate, new ones get the new one. A reload that fails (a half-written file, a key readable by others)
/// is logged and the certificate in force stays. A `Service` of the server's `ServiceGroup`.
public struct TLSReloadService: Service {
    private let contexts: [TLSServerContext]
    private let logger: Logger
    private let onReload: @Sendable (Result<Void, TLSSetupError>) async -> Void

    /// Reloads `contexts` on every SIGHUP; `onReload` learns how each signal's reload went (for tests).
    public init(
        contexts: [TLSServerContext], logger: Logger,
        onReload: @escaping @Sendable (Result<Void, TLSSetupError>) async -> Void = { _ in }
    ) {
        self.contexts = contexts
        self.logger = logger
        self.onReload = onReload
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        logger.debug("reloading TLS certificates on SIGHUP")
        for await _ in signals.cancelOnGracefulShutdown() {
            var outcome: Result<Void, TLSSetupError> = .success(())
            for context in contexts {
                do throws(TLSSetupError) {
                    try context.reload()
                    logger.notice(
                        "reloaded the TLS certificate; new connections get it",
                        metadata: ["certificate": "\(context.identity.certificatePath)"])
                } catch {
                    outcome = .failure(error)
                    logger.error("kept the TLS certificate in force; the reload failed: \(error)")
                }
            }
            await onReload(outcome)
        }
    }
}
