import BlueTraceClient
import BlueTraceDomain
import BlueTraceTLS
import BlueTraceWire
import NIOCore
import NIOPosix

/// Opens connections to one server, as many as the clients need.
struct Connector: Sendable {
    /// The largest reply the bench accepts: replies are small, but an upload receipt lists every untraced entry.
    static let maximumReplySize = 1 << 30

    let host: String
    let port: Int
    /// TLS on every connection; `nil`: plaintext.
    var tls: TLSClientContext? = nil
    let eventLoopGroup: any EventLoopGroup

    /// Connects through the phone client's connector, with a `BenchClientHandler` after the frame decoder.
    func connect() async throws(BenchError) -> Connection {
        do {
            let (channel, handler) = try await ServerConnector(
                host: host, port: port, maximumFrameSize: Self.maximumReplySize, tls: tls,
                eventLoopGroup: eventLoopGroup
            ).connect { BenchClientHandler(eventLoop: $0) }
            return Connection(channel: channel, handler: handler)
        } catch {
            throw .cannotConnect(host: error.host, port: error.port, reason: error.reason)
        }
    }

    /// Connects, runs `body` on the connection, and closes it.
    func withConnection<Result>(
        _ body: (inout Connection) async throws -> Result
    ) async throws -> Result {
        var connection = try await connect()
        defer { connection.channel.close(promise: nil) }
        return try await body(&connection)
    }
}

/// One open connection: sends requests with increasing ids and reads the replies, in order, one `await` each; or
/// hands a whole closed loop of requests to its handler (`runClosedLoop`), which runs it on the event loop.
struct Connection {
    let channel: any Channel
    private let handler: NIOLoopBound<BenchClientHandler>
    private var nextID: UInt64 = 1

    init(channel: any Channel, handler: NIOLoopBound<BenchClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Sends `message` and returns its request id.
    mutating func send(_ message: ClientMessage) async throws -> UInt64 {
        let id = nextID
        nextID += 1
        let handler = self.handler
        try await channel.eventLoop.submit { handler.value.send(ClientFrame(id: id, message: message)) }.get()
        return id
    }

    /// The next frame from the server. A server going away or a closed connection is an error.
    mutating func receive(during request: String) async throws -> ServerFrame {
        let handler = self.handler
        let frame = try await withTaskCancellationHandler {
            try await channel.eventLoop.flatSubmit { handler.value.nextFrame(during: request) }.get()
        } onCancel: { [channel] in
            channel.close(promise: nil)
        }
        if frame.id == nil, case .goingAway = frame.message {
            throw BenchError.connectionClosed(during: "\(request) (the server is shutting down)")
        }
        return frame
    }

    /// Runs `loop` on the connection's event loop until its window ends and its last reply is in; returns what it
    /// measured, and the error that ended it early, if one did. Cancelled, it stops waiting and counts the requests
    /// in flight as unanswered.
    mutating func runClosedLoop(_ loop: ClosedLoop) async throws -> (LatencyRecorder, BenchError?) {
        var numbered = loop
        numbered.firstID = nextID
        let loop = numbered
        let handler = self.handler
        let eventLoop = channel.eventLoop
        let result = try await withTaskCancellationHandler {
            try await eventLoop.flatSubmit { handler.value.run(loop) }.get()
        } onCancel: {
            eventLoop.execute { handler.value.abandon("no reply within --timeout after the end of the run") }
        }
        nextID = result.nextID
        return (result.recorder, result.error)
    }

    /// Sends `message` and waits for its reply.
    mutating func request(_ message: ClientMessage) async throws -> ServerMessage {
        let id = try await send(message)
        let frame = try await receive(during: message.type)
        guard frame.id == nil || frame.id == id else {
            throw BenchError.unexpectedReply(
                request: message.type, reply: "a reply to request \(frame.id ?? 0) instead of \(id)")
        }
        return frame.message
    }

    /// Registers `username`; an account that already exists is fine (the bench reuses its test users).
    /// Returns whether the account was created.
    mutating func register(_ username: String, password: String) async throws -> Bool {
        switch try await request(.register(username: username, password: password)) {
        case .registered: return true
        case .error(.usernameTaken, _): return false
        case .error(.serverBusy, let message): throw BenchError.serverBusy(message: message)
        case .error(_, let message): throw BenchError.registrationRefused(user: username, message: message)
        case let other: throw BenchError.unexpectedReply(request: "register", reply: other.type)
        }
    }

    /// Logs in as `username`.
    mutating func login(_ username: String, password: String) async throws {
        switch try await request(.login(username: username, password: password)) {
        case .welcome: return
        case .error(.serverBusy, let message): throw BenchError.serverBusy(message: message)
        case .error(_, let message): throw BenchError.loginRefused(user: username, message: message)
        case let other: throw BenchError.unexpectedReply(request: "login", reply: other.type)
        }
    }

    /// Logs out; the server then closes the connection.
    mutating func logout() async throws {
        switch try await request(.logout) {
        case .loggedOut: return
        case let other: throw BenchError.unexpectedReply(request: "logout", reply: describe(other))
        }
    }

    /// Downloads a TempID and returns it with its validity (the first of a sealed batch).
    mutating func downloadTempID() async throws -> IssuedTempID {
        switch try await request(.downloadTempID) {
        case .tempID(let tempID, let validity, _): return IssuedTempID(tempID: tempID, validity: validity)
        case let other: throw BenchError.unexpectedReply(request: "download_tempid", reply: describe(other))
        }
    }
}

/// A server message in a few words, for error reports.
func describe(_ message: ServerMessage) -> String {
    if case .error(let code, let text) = message { return "\(code.rawValue): \(text)" }
    return message.type
}
