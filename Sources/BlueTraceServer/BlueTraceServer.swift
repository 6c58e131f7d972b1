import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceTLS
import BlueTraceWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The health-authority TCP server: a `Service` that listens, and runs a `SessionHandler` on every connection it
/// admits, answered by a `SessionResponder` (the health authority's, or the bench's stub).
///
/// Transport only; the rules live in `HealthAuthority`. Each connection's pipeline is the frame decoder and the
/// session, both on the connection's event loop. On graceful shutdown it stops accepting, tells connected clients
/// it is going away, and returns once their connections are closed; cancelled, it closes them at once.
public struct BlueTraceServer: Service {
    /// How many reads one connection may do per event loop turn, before others get theirs (NIO's default is 4;
    /// a pipelining client sends many small frames).
    static let maximumMessagesPerRead: UInt = 16

    private let configuration: ServerConfiguration
    private let responder: any SessionResponder
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) async -> Void
    private let sessions: SessionDirectory?
    private let transportObserver: (any TransportObserver)?

    /// Creates the health authority's server; `onListening` is called with the bound address once it accepts
    /// connections; `sessions` learns who is logged in where, so notices reach them; `transportObserver` (metrics)
    /// learns of connections and request latencies.
    public init(
        configuration: ServerConfiguration,
        authority: HealthAuthority,
        sessions: SessionDirectory? = nil,
        transportObserver: (any TransportObserver)? = nil,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.init(
            configuration: configuration,
            responder: AuthorityResponder(
                authority: authority, maximumUploadEntries: configuration.limits.maximumUploadEntries,
                logger: logger),
            sessions: sessions, transportObserver: transportObserver, logger: logger, eventLoopGroup: eventLoopGroup,
            onListening: onListening)
    }

    /// Creates a server whose requests `responder` answers.
    public init(
        configuration: ServerConfiguration,
        responder: any SessionResponder,
        sessions: SessionDirectory? = nil,
        transportObserver: (any TransportObserver)? = nil,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.sessions = sessions
        self.transportObserver = transportObserver
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.onListening = onListening
    }

    public func run() async throws {
        let admission = Admission(limits: configuration.limits, logger: logger)
        let connections = ConnectionRegistry()
        let inboxes = EventLoopInbox.Directory(eventLoopGroup)
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: Self.maximumMessagesPerRead)
                .childChannelInitializer { [configuration, responder, sessions, transportObserver, logger] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Self.setUp(
                            channel, configuration: configuration, responder: responder, admission: admission,
                            connections: connections, sessions: sessions, inbox: inboxes.inbox(for: channel.eventLoop),
                            transportObserver: transportObserver, logger: logger)
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw ServerBindError(host: configuration.host, port: configuration.port, underlying: error)
        }
        let address = listener.localAddress!
        logger.notice("listening", metadata: ["address": "\(address)"])
        await onListening(address)

        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await listener.closeFuture.get()
                await connections.waitUntilEmpty()
            } onGracefulShutdown: { [logger] in
                logger.notice("shutting down: no longer accepting connections")
                listener.close(promise: nil)
                connections.goAway()
            }
        } onCancel: {
            listener.close(promise: nil)
            connections.closeAll()
        }
    }

    /// Sets up a new connection: TLS first when configured (with the certificate in force now), then refused at
    /// once when the limits say so (told why), else given the frame decoder and its session. The one child-channel
    /// setup of every server, the stub's included.
    private static func setUp(
        _ channel: any Channel, configuration: ServerConfiguration, responder: any SessionResponder,
        admission: Admission, connections: ConnectionRegistry, sessions: SessionDirectory?, inbox: EventLoopInbox,
        transportObserver: (any TransportObserver)?, logger: Logger
    ) throws {
        var logger = logger
        logger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
        if let tls = configuration.tls {
            try tls.addHandlers(to: channel.pipeline.syncOperations, logger: logger) { allocator in
                var buffer = allocator.buffer(capacity: 160)
                Framing.write(
                    ServerFrame(id: nil, message: .error(.tlsRequired, message: ServerText.tlsRequired)),
                    into: &buffer)
                return buffer
            }
        }
        if let refusal = admission.admit(address: channel.remoteAddress?.ipAddress ?? "?") {
            var buffer = channel.allocator.buffer(capacity: 128)
            Framing.write(ServerFrame(id: nil, message: .error(.serverBusy, message: refusal)), into: &buffer)
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        channel.closeFuture.whenComplete { _ in
            admission.release()
            transportObserver?.connectionClosed()
        }
        transportObserver?.connectionOpened()
        connections.add(channel)
        logger.debug("connection opened")
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(
            ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameSize: configuration.maximumFrameSize)))
        try operations.addHandler(
            SessionHandler(
                responder: responder, limits: configuration.limits, inbox: inbox, directory: sessions,
                transportObserver: transportObserver, logger: logger))
    }
}

/// The server could not listen on the requested address.
public struct ServerBindError: Error, CustomStringConvertible {
    /// The host asked for.
    public var host: String
    /// The port asked for.
    public var port: Int
    /// What the operating system said.
    public var underlying: any Error

    public var description: String {
        "cannot listen on \(host):\(port): \(SocketErrorText.describe(underlying)). Is another server using the "
            + "port? Choose another port."
    }
}
