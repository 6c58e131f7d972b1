import BlueTraceDomain
import NIOCore

/// A client message encoded once, to be sent many times, each time under a request id of its own: byte for byte the
/// frame `Framing.write(ClientFrame(id:message:))` writes, made of a short head (the length prefix and the envelope)
/// and the message's fields, shared. A load generator's frames: `bench` sends one upload over and over, and encoding
/// its 90 MiB of JSON anew for each would make the client's own work part of the server's latency.
public struct EncodedClientMessage: Sendable {
    /// The message's `type`.
    private let type: String
    /// The fields after the envelope, and the object's closing brace.
    public let fields: ByteBuffer

    /// Encodes `message`.
    public init(_ message: ClientMessage, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        type = message.type
        var buffer = allocator.buffer(capacity: 128)
        // The envelope is written before these fields, so the first of them follows a comma.
        var object = JSONObjectWriter(following: ())
        message.writeFields(into: &object, &buffer)
        object.finish(&buffer)
        fields = buffer
    }

    /// The frame's head under request `id`: the length prefix and the envelope; `fields` follow it.
    public func head(id: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(UInt32(0))
        var object = JSONObjectWriter(&buffer)
        object.envelope(type: type, id: id, &buffer)
        let length = buffer.readableBytes - Framing.headerSize + fields.readableBytes
        buffer.setInteger(UInt32(length), at: buffer.readerIndex, endianness: .big)
        return buffer
    }
}
