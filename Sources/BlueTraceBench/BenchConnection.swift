import BlueTraceDomain
import BlueTraceWire
import NIOCore
import NIOPosix

/// A client connection to the server, as the bench opens it: frames in, frames out.
typealias ServerChannel = NIOAsyncChannel<Inbound<ServerFrame>, ClientFrame>

/// Opens connections to one server, as many as the clients need.
struct Connector: Sendable {
    /// The largest reply the bench accepts: replies are small, but an upload receipt lists every untraced entry.
    static let maximumReplySize = 1 << 30

    let host: String
    let port: Int
    let eventLoopGroup: any EventLoopGroup

    /// Connects, speaking the protocol through the project's own pipeline.
    func connect() async throws(BenchError) -> ServerChannel {
        do {
            return try await ClientBootstrap(group: eventLoopGroup)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try MessagePipeline.configure(
                            channel, inbound: ServerFrame.self, outbound: ClientFrame.self,
                            maximumFrameSize: Self.maximumReplySize)
                        return try ServerChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            let underlying =
                (error as? NIOConnectionError)?.connectionErrors.last?.error
                ?? (error as? NIOConnectionError)?.dnsAError ?? error
            throw .cannotConnect(host: host, port: port, reason: SocketErrorText.describe(underlying))
        }
    }

    /// Connects, runs `body` on the connection, and closes it.
    func withConnection<Result>(
        _ body: (inout Connection) async throws -> Result
    ) async throws -> Result {
        let channel = try await connect()
        return try await channel.executeThenClose { inbound, outbound in
            var connection = Connection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }
}

/// One open connection: sends requests with increasing ids and reads the replies, in order.
struct Connection {
    private var inbound: NIOAsyncChannelInboundStream<Inbound<ServerFrame>>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ClientFrame>
    private var nextID: UInt64 = 1

    init(
        inbound: NIOAsyncChannelInboundStream<Inbound<ServerFrame>>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ClientFrame>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Sends `message` and returns its request id.
    mutating func send(_ message: ClientMessage) async throws -> UInt64 {
        let id = nextID
        nextID += 1
        try await outbound.write(ClientFrame(id: id, message: message))
        return id
    }

    /// The next frame from the server. A server going away or a closed connection is an error.
    mutating func receive(during request: String) async throws -> ServerFrame {
        guard let item = try await inbound.next() else { throw BenchError.connectionClosed(during: request) }
        switch item {
        case .message(let frame):
            if frame.id == nil, case .goingAway = frame.message {
                throw BenchError.connectionClosed(during: "\(request) (the server is shutting down)")
            }
            return frame
        case .malformed(let error):
            throw BenchError.unexpectedReply(request: request, reply: "an unreadable message (\(error))")
        }
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
