import BlueTraceDomain
import BlueTraceWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The health-authority TCP server: a `Service` that accepts connections and runs a `ConnectionSession` on each.
///
/// Transport only; the rules live in `HealthAuthority`. On graceful shutdown it stops accepting, tells connected
/// clients it is going away, and returns once their connections are closed.
public struct BlueTraceServer: Service {
    private let configuration: ServerConfiguration
    private let authority: HealthAuthority
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) async -> Void

    /// Creates a server; `onListening` is called with the bound address once it accepts connections.
    public init(
        configuration: ServerConfiguration,
        authority: HealthAuthority,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.authority = authority
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.onListening = onListening
    }

    public func run() async throws {
        let maximumFrameSize = configuration.maximumFrameSize
        let limits = configuration.limits
        let admission = Admission(limits: limits, logger: logger)
        let listener: NIOAsyncChannel<NIOAsyncChannel<Inbound<ClientFrame>, ServerFrame>, Never>
        do {
            listener = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try MessagePipeline.configure(
                            channel, inbound: ClientFrame.self, outbound: ServerFrame.self,
                            maximumFrameSize: maximumFrameSize)
                        try channel.pipeline.syncOperations.addHandler(SessionTimeouts(limits: limits))
                        return try NIOAsyncChannel<Inbound<ClientFrame>, ServerFrame>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ServerBindError(host: configuration.host, port: configuration.port, underlying: error)
        }
        let address = listener.channel.localAddress!
        logger.notice("listening", metadata: ["address": "\(address)"])
        await onListening(address)

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await listener.executeThenClose { connections in
                    for try await connection in connections {
                        let address = connection.channel.remoteAddress?.ipAddress ?? "?"
                        if let refusal = admission.admit(address: address) {
                            // Refused before any request is read: say why, then close.
                            connection.channel.writeAndFlush(
                                ServerFrame(id: nil, message: .error(.serverBusy, message: refusal))
                            ).whenComplete { _ in connection.channel.close(promise: nil) }
                            continue
                        }
                        group.addTask {
                            await serve(connection)
                            admission.release()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            logger.notice("shutting down: no longer accepting connections")
            listener.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<Inbound<ClientFrame>, ServerFrame>) async {
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(connection.channel.remoteAddress.map { "\($0)" } ?? "?")"
        logger.debug("connection opened")
        var session = ConnectionSession(
            authority: authority, maximumUploadEntries: configuration.limits.maximumUploadEntries, logger: logger)
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withGracefulShutdownHandler {
                    do {
                        for try await item in inbound {
                            let (reply, next) = await session.handle(item)
                            try await outbound.write(reply)
                            if case .close = next { return }
                        }
                    } catch let error as FrameError {
                        logger.info("closing connection after a framing error", metadata: ["error": "\(error)"])
                        if case .frameTooLarge = error {
                            try await outbound.write(
                                ServerFrame(id: nil, message: .error(.frameTooLarge, message: "\(error)")))
                        }
                    }
                } onGracefulShutdown: {
                    let channel = connection.channel
                    channel.writeAndFlush(ServerFrame(id: nil, message: .goingAway(message: ServerText.goingAway)))
                        .whenComplete { _ in channel.close(promise: nil) }
                }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
        logger.debug("connection closed", metadata: ["user": "\(session.user ?? "-")"])
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
