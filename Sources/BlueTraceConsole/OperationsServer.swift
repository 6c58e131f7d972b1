import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceStore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The operations surface over HTTP (Hummingbird): `/health` (the process is alive), `/ready` (the store answers),
/// `/metrics` (Prometheus' text format) and the officials' console under `/console`. A `Service` of the server's
/// `ServiceGroup`, off unless `bluetrace server --http-port` asks for it.
public enum OperationsServer {
    /// The router of every route, for an `Application` or for tests (HummingbirdTesting).
    public static func router(
        configuration: OperationsConfiguration, store: any AuthorityStore, authority: HealthAuthority,
        metrics: OperationsMetrics, clock: any WallClock = SystemWallClock(),
        format: TimestampFormat = TimestampFormat(),
        logger: Logger
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeadersMiddleware())
        router.get("/health") { _, _ in plain("alive\n") }
        router.get("/ready") { _, _ in
            switch await answer(store, within: .seconds(readinessDeadline)) {
            case nil:
                return plain("ready\n")
            case let problem?:
                logger.warning("not ready: the store does not answer", metadata: ["problem": "\(problem)"])
                return plain("not ready: the store does not answer (\(problem))\n", status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        Console(
            configuration: configuration, store: store, authority: authority, metrics: metrics, clock: clock,
            format: format, logger: logger
        ).addRoutes(to: router)
        return router
    }

    /// The HTTP application, a `Service`: listens on the configured address and calls `onListening` with the address
    /// it bound; fails with `OperationsBindError` when it cannot listen.
    public static func application(
        configuration: OperationsConfiguration, store: any AuthorityStore, authority: HealthAuthority,
        metrics: OperationsMetrics, clock: any WallClock = SystemWallClock(),
        format: TimestampFormat = TimestampFormat(),
        logger: Logger, onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) -> some Service {
        let listening = ListeningFlag()
        let application = Application(
            router: router(
                configuration: configuration, store: store, authority: authority, metrics: metrics, clock: clock,
                format: format, logger: logger),
            server: configuration.tls.map { HTTPServerBuilder.reloadableTLS(context: $0) } ?? .http1(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "bluetrace"),
            onServerRunning: { channel in
                listening.value.withLock { $0 = true }
                if let address = channel.localAddress {
                    logger.notice("operations console listening", metadata: ["address": "\(address)"])
                    await onListening(address)
                }
            },
            logger: logger)
        return OperationsService(
            application: application, host: configuration.host, port: configuration.port, listening: listening)
    }

    /// Seconds `/ready` waits for the store: a PostgreSQL pool that cannot connect waits for a connection, and a probe
    /// must be told "no" in time.
    static let readinessDeadline: Int64 = 3

    /// Why `store` did not answer a ping within `deadline`, or `nil` when it did. The ping is not awaited past the
    /// deadline (a pool may keep waiting for a connection; it ends on its own).
    static func answer(_ store: any AuthorityStore, within deadline: Duration) async -> String? {
        let outcome = Mutex<CheckedContinuation<String?, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            outcome.withLock { $0 = continuation }
            let finish = { @Sendable (result: String?) in
                outcome.withLock { waiting in
                    waiting?.resume(returning: result)
                    waiting = nil
                }
            }
            let ping = Task {
                do {
                    try await store.ping()
                    finish(nil)
                } catch {
                    finish("\(error)")
                }
            }
            Task {
                try? await Task.sleep(for: deadline)
                finish("no answer within \(deadline)")
                ping.cancel()
            }
        }
    }

    /// A plain-text response.
    static func plain(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
