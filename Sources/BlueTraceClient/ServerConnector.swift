import BlueTraceWire
import NIOCore
import NIOPosix
import Synchronization

/// Opens protocol connections to a server: TCP without Nagle's delay, the frame decoder, then the caller's handler,
/// all on the connection's event loop. The one connector of the phone client and the bench (a TLS wrapper will be
/// added in front of the decoder here).
public struct ServerConnector: Sendable {
    /// The server's host name or address.
    public let host: String
    /// The server's port.
    public let port: Int
    /// The largest frame accepted from the server.
    public let maximumFrameSize: Int
    private let eventLoopGroup: any EventLoopGroup

    /// Creates a connector for `host`:`port`.
    public init(
        host: String, port: Int, maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.maximumFrameSize = maximumFrameSize
        self.eventLoopGroup = eventLoopGroup
    }

    /// Connects and installs the frame decoder and the handler `makeHandler` makes (on the connection's loop);
    /// returns the channel and that handler, bound to the loop. Fails saying why the server could not be reached.
    public func connect<Handler: ChannelHandler>(
        _ makeHandler: @escaping @Sendable (any EventLoop) -> Handler
    ) async throws(ServerUnreachable) -> (channel: any Channel, handler: NIOLoopBound<Handler>) {
        let maximumFrameSize = self.maximumFrameSize
        // The handler is made on the connection's loop; this carries it out, bound to that loop.
        let installed = Mutex<NIOLoopBound<Handler>?>(nil)
        do {
            let channel = try await ClientBootstrap(group: eventLoopGroup)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = makeHandler(channel.eventLoop)
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameSize: maximumFrameSize)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        installed.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                    }
                }
                .connect(host: host, port: port).get()
            return (channel, installed.withLock { $0! })
        } catch {
            let underlying =
                (error as? NIOConnectionError)?.connectionErrors.last?.error
                ?? (error as? NIOConnectionError)?.dnsAError ?? error
            throw ServerUnreachable(host: host, port: port, reason: SocketErrorText.describe(underlying))
        }
    }
}

/// The server could not be reached.
public struct ServerUnreachable: Error, CustomStringConvertible {
    /// The host tried.
    public var host: String
    /// The port tried.
    public var port: Int
    /// What the operating system said.
    public var reason: String

    public var description: String { "Cannot reach the server at \(host):\(port): \(reason)" }
}
