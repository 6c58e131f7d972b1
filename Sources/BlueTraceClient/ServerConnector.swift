import BlueTraceTLS
import BlueTraceWire
import NIOCore
import NIOPosix
import Synchronization

/// Opens protocol connections to a server: TCP without Nagle's delay, TLS when asked for, the frame decoder, then
/// the caller's handler, all on the connection's event loop. The one connector of the phone client and the bench.
public struct ServerConnector: Sendable {
    /// The server's host name or address.
    public let host: String
    /// The server's port.
    public let port: Int
    /// The largest frame accepted from the server.
    public let maximumFrameSize: Int
    /// TLS for every connection (the server's certificate checked against `host`); `nil`: plaintext.
    public let tls: TLSClientContext?
    private let eventLoopGroup: any EventLoopGroup

    /// Creates a connector for `host`:`port`.
    public init(
        host: String, port: Int, maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        tls: TLSClientContext? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.maximumFrameSize = maximumFrameSize
        self.eventLoopGroup = eventLoopGroup
    }

    /// Connects and installs TLS (when configured), the frame decoder and the handler `makeHandler` makes (on the
    /// connection's loop); returns the channel and that handler, bound to the loop, once the TLS handshake is done.
    /// Fails saying why the server could not be reached, or why TLS with it failed.
    public func connect<Handler: ChannelHandler>(
        _ makeHandler: @escaping @Sendable (any EventLoop) -> Handler
    ) async throws(ServerUnreachable) -> (channel: any Channel, handler: NIOLoopBound<Handler>) {
        let maximumFrameSize = self.maximumFrameSize
        let (tls, host) = (self.tls, self.host)
        // The handler is made on the connection's loop; this carries it out, bound to that loop.
        let installed = Mutex<NIOLoopBound<Handler>?>(nil)
        let handshake = Mutex<EventLoopFuture<Void>?>(nil)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = makeHandler(channel.eventLoop)
                        if let tls {
                            let connection = try TLSClientConnection(
                                context: tls, host: host, eventLoop: channel.eventLoop)
                            try connection.add(to: channel.pipeline.syncOperations)
                            handshake.withLock { $0 = connection.handshake }
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameSize: maximumFrameSize)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        installed.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            let underlying =
                (error as? NIOConnectionError)?.connectionErrors.last?.error
                ?? (error as? NIOConnectionError)?.dnsAError ?? error
            throw ServerUnreachable(host: host, port: port, reason: SocketErrorText.describe(underlying))
        }
        if let handshake = handshake.withLock({ $0 }) {
            do {
                try await handshake.get()
            } catch {
                channel.close(promise: nil)
                throw ServerUnreachable(host: host, port: port, reason: "\(error)", duringTLSHandshake: true)
            }
        }
        return (channel, installed.withLock { $0! })
    }
}

/// The server could not be reached.
public struct ServerUnreachable: Error, CustomStringConvertible {
    /// The host tried.
    public var host: String
    /// The port tried.
    public var port: Int
    /// What the operating system said, or why the TLS handshake failed.
    public var reason: String
    /// Whether the connection was made and its TLS handshake failed (`reason` says why and what to do).
    public var duringTLSHandshake: Bool

    /// Creates the error.
    public init(host: String, port: Int, reason: String, duringTLSHandshake: Bool = false) {
        self.host = host
        self.port = port
        self.reason = reason
        self.duringTLSHandshake = duringTLSHandshake
    }

    public var description: String {
        duringTLSHandshake
            ? "No TLS with the server at \(host):\(port): \(reason)"
            : "Cannot reach the server at \(host):\(port): \(reason)"
    }
}
