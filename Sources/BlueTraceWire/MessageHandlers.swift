import NIOCore

/// A frame's payload read as a message, or the reason it could not be read.
public enum Inbound<Message: Sendable>: Sendable {
    /// A well-formed message.
    case message(Message)
    /// A frame that is not a valid message; the connection can go on.
    case malformed(MessageDecodingError)
}

/// Decodes each inbound frame's JSON payload into a message.
///
/// A frame that is not a valid message becomes `.malformed` instead of an error, so the connection's logic can answer
/// it and carry on: framing is still intact, only that one message was bad.
public final class MessageDecoderHandler<Message: JSONFrameDecodable & Sendable>: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = Inbound<Message>

    private let coder = MessageCoder()

    /// Creates a decoder.
    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = Self.unwrapInboundIn(data)
        do throws(MessageDecodingError) {
            let message = try coder.decode(Message.self, from: payload)
            context.fireChannelRead(Self.wrapInboundOut(.message(message)))
        } catch {
            context.fireChannelRead(Self.wrapInboundOut(.malformed(error)))
        }
    }
}

/// Encodes each outbound message as a JSON frame payload.
public final class MessageEncoderHandler<Message: JSONFrameEncodable & Sendable>: ChannelOutboundHandler {
    public typealias OutboundIn = Message
    public typealias OutboundOut = ByteBuffer

    private let coder = MessageCoder()

    /// Creates an encoder.
    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = coder.encode(Self.unwrapOutboundIn(data), allocator: context.channel.allocator)
        context.write(Self.wrapOutboundOut(payload), promise: promise)
    }
}

/// Installs the protocol's codecs (framing, then JSON) on a TCP channel.
public enum MessagePipeline {
    /// Adds the handlers that turn frames into `Inbound` values and `Outbound` messages into frames.
    public static func configure<
        InboundMessage: JSONFrameDecodable & Sendable, OutboundMessage: JSONFrameEncodable & Sendable
    >(
        _ channel: any Channel,
        inbound: InboundMessage.Type,
        outbound: OutboundMessage.Type,
        maximumFrameSize: Int = Framing.defaultMaximumFrameSize
    ) throws {
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(
            ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameSize: maximumFrameSize)))
        try operations.addHandler(MessageToByteHandler(LengthPrefixedFrameEncoder()))
        try operations.addHandler(MessageDecoderHandler<InboundMessage>())
        try operations.addHandler(MessageEncoderHandler<OutboundMessage>())
    }
}
