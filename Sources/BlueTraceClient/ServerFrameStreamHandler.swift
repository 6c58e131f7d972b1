import BlueTraceWire
import NIOCore

/// The phone's end of its server connection: every frame the server sends, decoded, into an `AsyncStream` that
/// ends when the connection does; requests written as whole frames.
final class ServerFrameStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let sink: AsyncStream<Inbound<ServerFrame>>.Continuation
    private let coder = MessageCoder()

    /// Creates the handler; every frame goes to `sink`, in the order it arrived (one that is not a valid message as
    /// `.malformed`), and `sink` is finished when the connection ends.
    init(sink: AsyncStream<Inbound<ServerFrame>>.Continuation) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do throws(MessageDecodingError) {
            sink.yield(.message(try coder.decode(ServerFrame.self, from: unwrapInboundIn(data))))
        } catch {
            sink.yield(.malformed(error))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sink.finish()
        context.close(promise: nil)
    }
}

/// Writes requests to the server as whole frames, from any task.
struct ServerFrameWriter: Sendable {
    let channel: any Channel

    /// Writes and flushes `frame`; throws when the connection is gone.
    func write(_ frame: ClientFrame) async throws {
        var buffer = channel.allocator.buffer(capacity: 128)
        Framing.write(frame, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }
}
