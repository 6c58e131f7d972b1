import BlueTraceDomain
import BlueTraceWire
import NIOCore

/// A bench connection's replies, on its event loop: each handed to the request waiting for it, or, during a closed
/// loop, judged and answered by the next request right there, with no task in between.
final class BenchClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What a closed loop hands back when it ends.
    struct LoopResult: Sendable {
        var recorder: LatencyRecorder
        var error: BenchError?
        var nextID: UInt64
    }

    private let coder = MessageCoder()
    private let eventLoop: any EventLoop
    private var context: ChannelHandlerContext?
    private var received = CircularBuffer<Result<ServerFrame, BenchError>>()
    private var waiting = CircularBuffer<(request: String, promise: EventLoopPromise<ServerFrame>)>()
    private var closedBecause: String?
    private var loop: ClosedLoop?
    private var loopPromise: EventLoopPromise<LoopResult>?
    private var needsFlush = false

    /// Creates the handler of a connection on `eventLoop`.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: One request at a time

    /// Writes and flushes `frame`.
    func send(_ frame: ClientFrame) {
        write(frame)
        flush()
    }

    /// The next frame the server sends (one already received, or the one to come).
    func nextFrame(during request: String) -> EventLoopFuture<ServerFrame> {
        if let frame = received.popFirst() { return eventLoop.makeCompletedFuture(frame.mapError { $0 as any Error }) }
        if let reason = closedBecause {
            return eventLoop.makeFailedFuture(BenchError.connectionClosed(during: "\(request) (\(reason))"))
        }
        let promise = eventLoop.makePromise(of: ServerFrame.self)
        waiting.append((request, promise))
        return promise.futureResult
    }

    // MARK: A closed loop

    /// Starts `loop`: its first `pipeline` requests go out in one flush.
    func run(_ loop: ClosedLoop) -> EventLoopFuture<LoopResult> {
        let promise = eventLoop.makePromise(of: LoopResult.self)
        var loop = loop
        loop.nextID = loop.firstID
        self.loop = loop
        loopPromise = promise
        if let reason = closedBecause {
            end(error: BenchError.connectionClosed(during: "\(loop.operation.rawValue) (\(reason))"))
        } else {
            sendWhileRoom()
            flush()
        }
        return promise.futureResult
    }

    /// Stops the loop: the requests in flight count as failed with `reason`, and the connection is closed.
    func abandon(_ reason: String) {
        guard loop != nil else { return }
        loop!.failAllInFlight(reason)
        end(error: .connectionClosed(during: reason))
        context?.close(promise: nil)
    }

    private func sendWhileRoom() {
        while let id = loop?.nextRequest() { write(loop!.message, id: id) }
    }

    private func end(error: BenchError?) {
        guard let loop, let promise = loopPromise else { return }
        self.loop = nil
        loopPromise = nil
        promise.succeed(LoopResult(recorder: loop.recorder, error: error, nextID: loop.nextID))
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame: Result<ServerFrame, BenchError>
        do throws(MessageDecodingError) {
            frame = .success(try coder.decode(ServerFrame.self, from: unwrapInboundIn(data)))
        } catch {
            frame = .failure(.unexpectedReply(request: "a request", reply: "an unreadable message (\(error))"))
        }
        if loop != nil {
            switch loop!.received(frame) {
            case .goOn:
                sendWhileRoom()
                if loop!.isDone { end(error: nil) }
            case .stop(let error):
                end(error: error)
                context.close(promise: nil)
            }
        } else if let (_, promise) = waiting.popFirst() {
            promise.completeWith(frame.mapError { $0 as any Error })
        } else {
            received.append(frame)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded("the server closed the connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connectionEnded("\(error)")
        context.close(promise: nil)
    }

    private func connectionEnded(_ reason: String) {
        guard closedBecause == nil else { return }
        closedBecause = reason
        while let (request, promise) = waiting.popFirst() {
            promise.fail(BenchError.connectionClosed(during: "\(request) (\(reason))"))
        }
        if loop != nil {
            loop!.failAllInFlight(reason)
            end(error: .connectionClosed(during: "\(loop?.operation.rawValue ?? "a request") (\(reason))"))
        }
    }

    private func write(_ frame: ClientFrame) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        Framing.write(frame, into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    /// Writes the frame of `message` under request `id`: its own head, then the fields every such frame shares.
    private func write(_ message: EncodedClientMessage, id: UInt64) {
        guard let context else { return }
        context.write(wrapOutboundOut(message.head(id: id, allocator: context.channel.allocator)), promise: nil)
        context.write(wrapOutboundOut(message.fields), promise: nil)
        needsFlush = true
    }

    private func flush() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }
}
