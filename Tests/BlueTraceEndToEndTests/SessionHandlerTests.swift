import BlueTraceDomain
import BlueTraceWire
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import BlueTraceServer

/// A responder the test answers by hand: it keeps every request's reply callback until told to answer.
final class ManualResponder: SessionResponder {
    struct Request {
        var message: ClientMessage
        var user: String?
        var reply: @Sendable (SessionReply) -> Void
    }

    private let requests = Mutex<[Request]>([])

    func respond(to message: ClientMessage, from user: String?, reply: @escaping @Sendable (SessionReply) -> Void) {
        requests.withLock { $0.append(Request(message: message, user: user, reply: reply)) }
    }

    /// The requests received so far.
    var received: [Request] { requests.withLock { $0 } }
}

/// Counts the flushes that reach the socket.
final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var flushes = 0

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// A connection's pipeline (frame decoder and session) on an `EmbeddedChannel`, speaking frames as bytes.
struct SessionChannel {
    let channel: EmbeddedChannel
    let flushes = FlushCounter()

    init(responder: any SessionResponder, limits: ConnectionLimits = ConnectionLimits()) throws {
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(flushes)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(
            SessionHandler(responder: responder, limits: limits, logger: quietLogger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5055)).wait()
    }

    /// Sends `messages` as frames in one read, with ids from `firstID`.
    func send(_ messages: [ClientMessage], firstID: UInt64 = 1) throws {
        var bytes = channel.allocator.buffer(capacity: 256)
        for (offset, message) in messages.enumerated() {
            Framing.write(ClientFrame(id: firstID + UInt64(offset), message: message), into: &bytes)
        }
        try channel.writeInbound(bytes)
    }

    /// Every frame the session wrote (and flushed) since the last call.
    func replies() throws -> [ServerFrame] {
        var frames: [ServerFrame] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while let length = buffer.readInteger(as: UInt32.self), let payload = buffer.readSlice(length: Int(length))
            {
                frames.append(try MessageCoder().decode(ServerFrame.self, from: payload))
            }
        }
        return frames
    }
}

/// The connection's protocol session in its channel handler alone: order, batching, barriers, errors.
@Suite("Session handler")
struct SessionHandlerTests {
    static let welcome = SessionReply(.welcome(message: ServerText.welcome), change: .loggedIn("+61410777777"))
    static let tempID = SessionReply(
        .tempID(
            TempID("12345678901234567891")!,
            ValidityWindow(start: Timestamp(secondsSinceEpoch: 0), expiry: Timestamp(secondsSinceEpoch: 899))))

    @Test("Replies go out in request order, however the answers arrive, and each read batch is flushed once")
    func orderAndFlushes() throws {
        let responder = ManualResponder()
        let session = try SessionChannel(responder: responder)
        try session.send([.login(username: "+61410777777", password: "datha457")])
        responder.received[0].reply(Self.welcome)
        #expect(try session.replies().map(\.id) == [1])

        let flushesBefore = session.flushes.flushes
        try session.send(Array(repeating: .downloadTempID, count: 5), firstID: 2)
        #expect(responder.received.count == 6, "pipelined downloads are all being answered at once")
        #expect(responder.received.dropFirst().allSatisfy { $0.user == "+61410777777" })
        // Answer them backwards: nothing can go out until the first is answered, then all go out together.
        for request in responder.received.dropFirst(2).reversed() { request.reply(Self.tempID) }
        #expect(try session.replies().isEmpty)
        responder.received[1].reply(Self.tempID)
        #expect(try session.replies().map(\.id) == [2, 3, 4, 5, 6])
        #expect(session.flushes.flushes == flushesBefore + 1, "five replies, one flush")
    }

    @Test("Requests after a login wait for it, and are answered as the user it logged in")
    func loginIsABarrier() throws {
        let responder = ManualResponder()
        let session = try SessionChannel(responder: responder)
        try session.send([.login(username: "+61410777777", password: "datha457"), .downloadTempID, .downloadTempID])
        #expect(responder.received.count == 1, "the downloads wait for the login")
        responder.received[0].reply(Self.welcome)
        #expect(responder.received.count == 3)
        #expect(responder.received[1].user == "+61410777777")
        responder.received[1].reply(Self.tempID)
        responder.received[2].reply(Self.tempID)
        #expect(try session.replies().map(\.message.type) == ["welcome", "tempid", "tempid"])
    }

    @Test("A malformed frame gets an error and the session goes on; logout closes after its reply")
    func malformedThenLogout() throws {
        let responder = ManualResponder()
        let session = try SessionChannel(responder: responder)
        var bytes = session.channel.allocator.buffer(capacity: 16)
        bytes.writeInteger(UInt32(1))
        bytes.writeString("{")
        try session.channel.writeInbound(bytes)
        let error = try session.replies()
        #expect(error.count == 1)
        if case .error(let code, _) = error.first?.message { #expect(code == .badRequest) } else { Issue.record() }
        try session.send([.logout, .downloadTempID])
        #expect(responder.received.count == 1, "nothing after a logout is answered")
        responder.received[0].reply(SessionReply(.loggedOut, change: .close))
        #expect(try session.replies().map(\.message) == [.loggedOut])
        #expect(!session.channel.isActive)
    }

    @Test("A frame larger than the limit is refused with frame_too_large and the connection is closed")
    func oversizedFrame() throws {
        let session = try SessionChannel(responder: ManualResponder())
        var bytes = session.channel.allocator.buffer(capacity: 4)
        bytes.writeInteger(UInt32(Framing.defaultMaximumFrameSize + 1))
        _ = try? session.channel.writeInbound(bytes)
        let replies = try session.replies()
        if case .error(let code, _) = replies.first?.message { #expect(code == .frameTooLarge) } else { Issue.record() }
        #expect(!session.channel.isActive)
    }

    @Test("Past the in-flight limit the connection stops reading until replies are written")
    func backpressure() throws {
        let responder = ManualResponder()
        let session = try SessionChannel(responder: responder)
        try session.send([.login(username: "+61410777777", password: "datha457")])
        responder.received[0].reply(Self.welcome)
        _ = try session.replies()
        try session.send(Array(repeating: .downloadTempID, count: SessionHandler.maximumInFlight))
        let reads = ReadCounter()
        try session.channel.pipeline.syncOperations.addHandler(reads, position: .first)
        session.channel.read()
        #expect(reads.reads == 0, "a full session holds the read")
        responder.received[1].reply(Self.tempID)
        #expect(reads.reads == 1, "the first reply lets it read again")
    }
}

/// Counts the reads that reach the socket.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// The login deadline and the idle timeout, in the session handler, on an event loop whose time the test moves.
@Suite("Session timeouts")
struct SessionTimeoutsTests {
    static func session(
        loginDeadline: Double = 10, idleTimeout: Double = 60
    ) throws -> (
        SessionChannel, ManualResponder
    ) {
        var limits = ConnectionLimits()
        limits.loginDeadline = loginDeadline
        limits.idleTimeout = idleTimeout
        let responder = ManualResponder()
        return (try SessionChannel(responder: responder, limits: limits), responder)
    }

    /// Logs the session in.
    static func logIn(_ session: SessionChannel, _ responder: ManualResponder) throws {
        try session.send([.login(username: "+61410777777", password: "datha457")])
        responder.received.last!.reply(SessionHandlerTests.welcome)
    }

    /// The `going_away` text the handler sent, if it sent one.
    static func goingAway(_ session: SessionChannel) throws -> String? {
        for frame in try session.replies() {
            if case .goingAway(let message) = frame.message { return message }
        }
        return nil
    }

    @Test("A connection that does not log in is closed at the deadline")
    func loginDeadline() throws {
        let (session, _) = try Self.session()
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(session.channel.isActive)
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!session.channel.isActive)
        #expect(try Self.goingAway(session)?.contains("No login") == true)
    }

    @Test("Every message from the client pushes the idle timeout back; silence then closes the session")
    func activityKeepsTheSessionOpen() throws {
        let (session, responder) = try Self.session(idleTimeout: 60)
        try Self.logIn(session, responder)
        // Requests at 40 s and 80 s: never 60 s of silence, so the timer set at login (due at 60 s) and the ones
        // after it find the client active and wait on.
        for _ in 0..<2 {
            session.channel.embeddedEventLoop.advanceTime(by: .seconds(40))
            try session.send([.downloadTempID])
        }
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(session.channel.isActive, "59 s after the last request")
        #expect(try Self.goingAway(session) == nil)
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!session.channel.isActive, "61 s after the last request")
        #expect(try Self.goingAway(session)?.contains("idle") == true)
    }

    @Test("Logging in replaces the login deadline with the idle timeout")
    func loginStartsTheIdleTimeout() throws {
        let (session, responder) = try Self.session(loginDeadline: 10, idleTimeout: 60)
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try Self.logIn(session, responder)
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(session.channel.isActive, "past the login deadline, but logged in")
        session.channel.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(!session.channel.isActive)
    }

    @Test("The server going away tells the client and closes the connection")
    func goingAway() throws {
        let (session, _) = try Self.session()
        session.channel.pipeline.fireUserInboundEventTriggered(SessionHandler.GoingAway())
        #expect(try Self.goingAway(session) == ServerText.goingAway)
        #expect(!session.channel.isActive)
    }
}
