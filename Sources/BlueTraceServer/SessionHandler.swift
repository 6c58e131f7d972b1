import BlueTraceTLS
import BlueTraceWire
import Logging
import NIOCore

/// One connection's protocol session, on its event loop: reads each frame's request, has the responder answer it,
/// and writes the replies in request order, flushing once per batch of reads.
///
/// Requests are answered in `channelRead`; one that completes later (a TempID waiting for its commit, a login being
/// hashed) has its reply written when it completes, on this loop, and the replies behind it wait their turn. A login,
/// registration or logout is a barrier: the requests after it wait until it is answered, since it may change who is
/// logged in. Requests the client pipelined overlap otherwise, up to `maximumInFlight`; past that the connection
/// reads no more until replies catch up. The handler also enforces the login deadline and the idle timeout, and says
/// `going_away` when the server shuts down (`GoingAway`).
final class SessionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The inbound user event by which the server asks the connection to say `going_away` and close.
    struct GoingAway: Sendable {}

    /// The inbound user event carrying a notice for `user` (an exposure notice), written at once if this connection is
    /// still logged in as that user.
    struct Push: Sendable {
        var user: String
        var message: ServerMessage
    }

    /// Requests read but not yet answered, at most; then the connection reads no more until replies are written.
    static let maximumInFlight = 256

    private let responder: any SessionResponder
    /// Where this connection's login is recorded, so notices for its user reach it.
    private let directory: SessionDirectory?
    /// Where replies completed on other threads are handed to this connection's loop.
    private let inbox: EventLoopInbox?
    /// Told how long each request took (metrics); `nil` when the server keeps none, and then no clock is read.
    private let transportObserver: (any TransportObserver)?
    private let loginDeadline: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private let coder = MessageCoder()

    /// Who is logged in on this connection.
    private(set) var user: String?
    /// Replies in request order; `nil` while the request is still being answered. The first has `firstSequence`.
    private var replies = CircularBuffer<ServerFrame?>(initialCapacity: 4)
    private var firstSequence = 0
    /// Requests read while a barrier is being answered, dispatched once it is.
    private var queued = CircularBuffer<Inbound<ClientFrame>>()
    /// The sequence of the login, registration or logout being answered.
    private var barrier: Int?
    /// The sequence of the reply after which the connection closes.
    private var closeAfter: Int?
    private var closed = false
    private var inReadBatch = false
    private var needsFlush = false
    private var readHeld = false
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// When the client last sent something, read when the timer fires instead of re-arming it per message.
    private var lastRead = NIODeadline.now()

    /// Creates the session of one connection; replies completed elsewhere reach its loop through `inbox` (one of its
    /// own when `nil`); `transportObserver` learns how long each request took.
    init(
        responder: any SessionResponder, limits: ConnectionLimits, inbox: EventLoopInbox? = nil,
        directory: SessionDirectory? = nil, transportObserver: (any TransportObserver)? = nil, logger: Logger
    ) {
        self.responder = responder
        self.directory = directory
        self.inbox = inbox
        self.transportObserver = transportObserver
        self.loginDeadline = .nanoseconds(Int64(limits.loginDeadline * 1e9))
        self.idleTimeout = .nanoseconds(Int64(limits.idleTimeout * 1e9))
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(in: loginDeadline) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(in: loginDeadline)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        timer?.cancel()
        logger.debug("connection closed", metadata: ["user": "\(user ?? "-")"])
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is GoingAway {
            sayGoingAwayAndClose(ServerText.goingAway)
        } else if let push = event as? Push {
            guard !closed, closeAfter == nil, user == push.user else { return }
            write(ServerFrame(id: nil, message: push.message))
            if !inReadBatch { flushIfNeeded() }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? FrameError {
            if case .frameTooLarge(let length, _) = error, length <= UInt32.max,
                TLSRecord.isClientHello(lengthPrefix: UInt32(length))
            {
                logger.warning(
                    """
                    refused a client that started TLS: this server runs without it (start it with --tls-cert and \
                    --tls-key, or run the client without --tls)
                    """)
            } else {
                logger.info("closing connection after a framing error", metadata: ["error": "\(error)"])
            }
            if case .frameTooLarge = error {
                write(ServerFrame(id: nil, message: .error(.frameTooLarge, message: "\(error)")))
            }
        } else {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
        flushIfNeeded()
        close()
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed, closeAfter == nil else { return }
        inReadBatch = true
        if user != nil { lastRead = context.eventLoop.now }
        let inbound: Inbound<ClientFrame>
        do throws(MessageDecodingError) {
            inbound = .message(try coder.decode(ClientFrame.self, from: unwrapInboundIn(data)))
        } catch {
            inbound = .malformed(error)
        }
        if barrier == nil {
            dispatch(inbound)
        } else {
            queued.append(inbound)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBatch = false
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if replies.count + queued.count >= Self.maximumInFlight {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Starts answering one request.
    private func dispatch(_ inbound: Inbound<ClientFrame>) {
        guard let context else { return }
        let sequence = firstSequence + replies.count
        replies.append(nil)
        switch inbound {
        case .malformed(let error):
            logger.debug("malformed message", metadata: ["error": "\(error)"])
            fill(sequence, ServerFrame(id: error.requestID, message: .error(error.code, message: error.message)))
        case .message(let frame):
            switch frame.message {
            case .login, .register, .logout: barrier = sequence
            case .downloadTempID, .uploadContactLog, .acknowledgeNotice: break
            }
            let eventLoop = context.eventLoop
            let inbox = self.inbox ?? EventLoopInbox(eventLoop: eventLoop)
            let handler = NIOLoopBound(self, eventLoop: eventLoop)
            let id = frame.id
            // Timed in the closure the reply needs anyway: metrics add two clock reads and no allocation.
            let observer = transportObserver
            let kind = frame.message.kind
            let started = observer == nil ? nil : NIODeadline.now()
            responder.respond(to: frame.message, from: user) { reply in
                if let observer, let started {
                    observer.requestAnswered(kind, nanoseconds: (NIODeadline.now() - started).nanoseconds)
                }
                if eventLoop.inEventLoop {
                    handler.value.complete(sequence, id: id, reply)
                } else {
                    inbox.post { handler.value.complete(sequence, id: id, reply) }
                }
            }
        }
    }

    /// A request was answered: applies what it changes, writes every reply now due, and lets waiting requests go.
    private func complete(_ sequence: Int, id: UInt64, _ reply: SessionReply) {
        guard !closed, let context else { return }
        switch reply.change {
        case .none:
            break
        case .loggedIn(let user):
            self.user = user
            lastRead = context.eventLoop.now
            arm(in: idleTimeout)
            directory?.loggedIn(user, on: context.channel)
        case .close:
            user = nil
            closeAfter = sequence
        }
        fill(sequence, ServerFrame(id: id, message: reply.message))
        if barrier == sequence {
            barrier = nil
            while barrier == nil, closeAfter == nil, let next = queued.popFirst() { dispatch(next) }
        }
        if !inReadBatch { flushIfNeeded() }
    }

    /// Stores the reply of `sequence` and writes every reply whose turn has come.
    private func fill(_ sequence: Int, _ frame: ServerFrame) {
        replies[replies.index(replies.startIndex, offsetBy: sequence - firstSequence)] = frame
        while let first = replies.first, let due = first {
            replies.removeFirst()
            write(due)
            if closeAfter == firstSequence {
                firstSequence += 1
                flushIfNeeded()
                close()
                return
            }
            firstSequence += 1
        }
        if readHeld, replies.count + queued.count < Self.maximumInFlight {
            readHeld = false
            context?.read()
        }
    }

    // MARK: Writing

    private func write(_ frame: ServerFrame) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 128)
        Framing.write(frame, into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    private func close() {
        guard !closed, let context else { return }
        closed = true
        context.close(promise: nil)
    }

    private func sayGoingAwayAndClose(_ message: String) {
        guard !closed else { return }
        write(ServerFrame(id: nil, message: .goingAway(message: message)))
        flushIfNeeded()
        close()
    }

    // MARK: Timeouts

    private func arm(in delay: TimeAmount) {
        guard let context else { return }
        timer?.cancel()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) { handler.value.timerFired() }
    }

    /// Closes the connection, unless the client sent something since the timer was set: then waits the rest.
    private func timerFired() {
        guard let context else { return }
        if user != nil {
            let idle = context.eventLoop.now - lastRead
            if idle < idleTimeout {
                arm(in: idleTimeout - idle)
                return
            }
            sayGoingAwayAndClose("The session was idle for too long and has been closed; log in again.")
        } else {
            sayGoingAwayAndClose("No login within the deadline; the connection has been closed.")
        }
    }
}
