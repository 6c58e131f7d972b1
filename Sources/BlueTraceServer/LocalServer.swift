import BlueTraceAuthority
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A server run inside this process, in a `ServiceGroup` with the services beside it: the one way the demo, the
/// simulator, the bench and the tests start a server.
///
/// `start` returns once the server listens, or throws the server's own error (a port in use, say) as soon as it
/// fails; `stop` shuts the group down gracefully and waits for it.
public final class LocalServer: Sendable {
    /// Where the server listens.
    public let address: SocketAddress
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(address: SocketAddress, group: ServiceGroup, running: Task<Void, any Error>) {
        self.address = address
        self.group = group
        self.running = running
    }

    /// The port the server listens on.
    public var port: Int { address.port ?? 0 }

    /// Starts a server answered by `responder`, with `services` beside it, and returns once it listens;
    /// `afterStopping` runs once every service has ended.
    public static func start(
        configuration: ServerConfiguration,
        responder: any SessionResponder,
        sessions: SessionDirectory? = nil,
        transportObserver: (any TransportObserver)? = nil,
        alongside services: [any Service] = [],
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        afterStopping: @escaping @Sendable () async -> Void = {}
    ) async throws -> LocalServer {
        let (addresses, listening) = AsyncStream<SocketAddress>.makeStream()
        let server = BlueTraceServer(
            configuration: configuration, responder: responder, sessions: sessions,
            transportObserver: transportObserver, logger: logger, eventLoopGroup: eventLoopGroup,
            onListening: { listening.yield($0) })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: ([server] + services).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                logger: logger))
        let running = Task {
            defer { listening.finish() }
            do {
                try await group.run()
            } catch {
                await afterStopping()
                throw error
            }
            await afterStopping()
        }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next() else {
            try await running.value
            throw LocalServerError.endedBeforeListening
        }
        return LocalServer(address: address, group: group, running: running)
    }

    /// Starts the health authority's server, with `services` beside it, and returns once it listens. Once it has
    /// stopped, the authority's store is closed (a SQLite store's lock is released then, so the same database can be
    /// served again in this process at once).
    public static func start(
        configuration: ServerConfiguration,
        authority: HealthAuthority,
        sessions: SessionDirectory? = nil,
        transportObserver: (any TransportObserver)? = nil,
        alongside services: [any Service] = [],
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> LocalServer {
        try await start(
            configuration: configuration,
            responder: AuthorityResponder(
                authority: authority, maximumUploadEntries: configuration.limits.maximumUploadEntries,
                logger: logger),
            sessions: sessions, transportObserver: transportObserver, alongside: services, logger: logger,
            eventLoopGroup: eventLoopGroup, afterStopping: { await authority.close() })
    }

    /// Shuts the server down gracefully (clients are told it is going away) and waits until it has stopped.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Runs `body` while `server` serves, then stops it, whether `body` returned or threw.
    public static func whileServing<Result>(
        _ server: LocalServer, _ body: (LocalServer) async throws -> Result
    ) async throws -> Result {
        let result: Result
        do {
            result = try await body(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
        return result
    }
}

/// The in-process server stopped before it listened, without saying why.
public enum LocalServerError: Error, CustomStringConvertible {
    /// The service group ended before the server listened.
    case endedBeforeListening

    public var description: String { "the server stopped before it listened" }
}
