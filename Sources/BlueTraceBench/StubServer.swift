import BlueTraceDomain
import BlueTraceWire
import NIOCore
import NIOPosix

/// A server that speaks the protocol and does nothing else: every request gets a canned reply (no store, no
/// password hashing, no TempID made), through the same transport as `BlueTraceServer` (TCP, framing, the JSON
/// codecs, `NIOAsyncChannel`, one child task per connection).
///
/// `bluetrace bench --spawn --stub-server` runs the load against it to measure the ceiling the transport alone puts
/// on this machine: no real server can go faster than its stub.
struct StubServer {
    let eventLoopGroup: any EventLoopGroup
    let maximumFrameSize: Int

    /// The replies: a fixed TempID, a receipt saying every entry was traced.
    private static let tempID = TempID("12345678901234567891")!
    private static let validity = ValidityWindow(
        start: Timestamp(secondsSinceEpoch: 1_767_571_200), expiry: Timestamp(secondsSinceEpoch: 1_767_572_099))

    static func reply(to message: ClientMessage) -> (ServerMessage, close: Bool) {
        switch message {
        case .login: (.welcome(message: "Welcome to the BlueTrace Simulator!"), false)
        case .register(let username, _): (.registered(message: "Account \(username) created."), false)
        case .downloadTempID: (.tempID(tempID, validity), false)
        case .uploadContactLog(let entries):
            (.uploadReceipt(UploadReceipt(received: entries.count, matched: entries.count, unmatched: [])), false)
        case .logout: (.loggedOut, true)
        }
    }

    /// Listens on a free loopback port, tells `onListening` which, and serves until cancelled.
    func run(onListening: @Sendable (Int) async -> Void) async throws {
        let maximumFrameSize = self.maximumFrameSize
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try MessagePipeline.configure(
                        channel, inbound: ClientFrame.self, outbound: ServerFrame.self,
                        maximumFrameSize: maximumFrameSize)
                    return try NIOAsyncChannel<Inbound<ClientFrame>, ServerFrame>(wrappingChannelSynchronously: channel)
                }
            }
        await onListening(listener.channel.localAddress?.port ?? 0)
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask {
                        try? await connection.executeThenClose { inbound, outbound in
                            for try await item in inbound {
                                guard case .message(let frame) = item else { continue }
                                let (reply, close) = Self.reply(to: frame.message)
                                try await outbound.write(ServerFrame(id: frame.id, message: reply))
                                if close { return }
                            }
                        }
                    }
                }
            }
        }
    }
}
