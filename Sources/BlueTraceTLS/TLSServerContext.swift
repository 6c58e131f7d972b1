import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// A TLS server's current context, behind a lock: every new connection takes the context in force when it is
/// accepted; `reload()` reads the identity's files again, so connections accepted afterwards get the new certificate
/// while those already open keep theirs.
///
/// One per listener that speaks TLS (the phone protocol's server; the HTTP console can have its own, from the same
/// or another `TLSServerIdentity`, and both reload on the same SIGHUP through `TLSReloadService`).
public final class TLSServerContext: Sendable {
    /// How long a client may take to finish its TLS handshake before its connection is closed.
    public static let defaultHandshakeTimeout = TimeAmount.seconds(10)

    /// The files the context is made from.
    public let identity: TLSServerIdentity
    /// How long a client may take to finish its handshake.
    public let handshakeTimeout: TimeAmount
    private let context: Mutex<NIOSSLContext>

    /// Reads the identity's files; throws, saying what to do, when they cannot be used.
    public init(
        identity: TLSServerIdentity, handshakeTimeout: TimeAmount = TLSServerContext.defaultHandshakeTimeout
    ) throws(TLSSetupError) {
        self.identity = identity
        self.handshakeTimeout = handshakeTimeout
        context = Mutex(try identity.makeContext())
    }

    /// The context new connections get.
    public var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the identity's files again and, if they can be used, makes them the context of new connections; if
    /// not, throws and keeps the one in force.
    public func reload() throws(TLSSetupError) {
        let fresh = try identity.makeContext()
        context.withLock { $0 = fresh }
    }

    /// Puts TLS in front of what `pipeline` already has or will get: a handler that answers a client speaking
    /// plaintext (`refusePlaintext` writes, in the protocol's own plaintext, what that client should do; then the
    /// connection is closed), the TLS server handler with the current context, and a guard that closes a
    /// handshake that takes longer than `handshakeTimeout` and logs every failed handshake saying why. Call on the
    /// channel's event loop, before the protocol's own handlers.
    public func addHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        logger: Logger,
        refusePlaintext: @escaping @Sendable (ByteBufferAllocator) -> ByteBuffer
    ) throws {
        try pipeline.addHandler(PlaintextClientRefusal(refusal: refusePlaintext, logger: logger))
        try pipeline.addHandler(NIOSSLServerHandler(context: current))
        try pipeline.addHandler(ServerHandshakeGuard(timeout: handshakeTimeout, logger: logger))
    }
}

/// The first handler of a TLS server's connection: a TLS client's first byte is a handshake record (22); anything
/// else is a client speaking plaintext, which is told so (in the protocol's plaintext) and disconnected. Removes
/// itself after the first byte of a TLS client.
final class PlaintextClientRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let refusal: @Sendable (ByteBufferAllocator) -> ByteBuffer
    private let logger: Logger
    private var refused = false

    init(refusal: @escaping @Sendable (ByteBufferAllocator) -> ByteBuffer, logger: Logger) {
        self.refusal = refusal
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        if TLSRecord.isHandshake(firstByte: first) {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        logger.warning(
            "refused a client that spoke without TLS: this server requires TLS (the client needs --tls)")
        let channel = context.channel
        // Written below the TLS handler, straight onto the socket: the client reads plaintext.
        context.writeAndFlush(wrapInboundOut(refusal(context.channel.allocator))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// Sits after the TLS server handler: closes a connection whose handshake is not done within the timeout, and logs
/// a failed handshake once, with what it means for the operator, instead of passing the error on.
final class ServerHandshakeGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?
    private var handshakeDone = false
    private var failed = false

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil, !handshakeDone else { return }
        let channel = context.channel
        let logger = logger
        let timeout = timeout
        timer = context.eventLoop.scheduleTask(in: timeout) {
            logger.warning(
                "closed a connection whose TLS handshake did not finish in time",
                metadata: ["seconds": "\(timeout.nanoseconds / 1_000_000_000)"])
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let protocolName) = event {
            handshakeDone = true
            timer?.cancel()
            logger.debug("TLS handshake completed", metadata: ["alpn": "\(protocolName ?? "-")"])
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !handshakeDone, !failed {
            logger.info("a client closed its connection before finishing the TLS handshake")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !handshakeDone else {
            context.fireErrorCaught(error)
            return
        }
        if !failed {
            failed = true
            logger.warning(
                "TLS handshake with a client failed: \(TLSFailure.serverSide(error))",
                metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }
}

/// Facts about TLS records, enough to tell TLS from the phone protocol's frames.
public enum TLSRecord {
    /// The content type of a handshake record, a TLS client's first byte.
    public static let handshakeContentType: UInt8 = 22

    /// Whether a connection's first byte starts a TLS handshake.
    public static func isHandshake(firstByte: UInt8) -> Bool { firstByte == handshakeContentType }

    /// Whether a frame's 4-byte length prefix is really the start of a TLS ClientHello (content type 22, version
    /// 3.x): what a plaintext server reads from a client that speaks TLS.
    public static func isClientHello(lengthPrefix: UInt32) -> Bool {
        lengthPrefix >> 24 == UInt32(handshakeContentType) && (lengthPrefix >> 16) & 0xFF == 3
    }
}
