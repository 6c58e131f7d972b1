import NIOCore

/// Why a stream of length-prefixed frames could not be read.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A frame announced more bytes than the receiver accepts; nothing of it was buffered.
    case frameTooLarge(length: Int, maximum: Int)
    /// The connection ended in the middle of a frame.
    case truncated(bufferedBytes: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let maximum):
            "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
        case .truncated(let bytes):
            "connection closed in the middle of a frame (\(bytes) bytes buffered)"
        }
    }
}

/// The TCP framing: every message is a 4-byte big-endian length followed by that many bytes.
public enum Framing {
    /// The default largest frame accepted: 16 MiB.
    public static let defaultMaximumFrameSize = 16 * 1024 * 1024
    /// Bytes in the length prefix.
    public static let headerSize = 4

    /// Appends `message` to `buffer` as one whole frame: the length prefix, then its JSON.
    public static func write(_ message: some JSONFrameEncodable, into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        message.writeJSON(into: &buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - start - headerSize), at: start, endianness: .big)
    }
}

/// Splits a byte stream into frames, rejecting an oversized frame as soon as its length is read.
public struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The largest payload accepted, in bytes.
    public let maximumFrameSize: Int

    /// Creates a decoder accepting payloads up to `maximumFrameSize` bytes.
    public init(maximumFrameSize: Int = Framing.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        guard length <= maximumFrameSize else {
            throw FrameError.frameTooLarge(length: Int(length), maximum: maximumFrameSize)
        }
        guard buffer.readableBytes >= Framing.headerSize + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: Framing.headerSize)
        let frame = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let buffered = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: buffered)
            throw FrameError.truncated(bufferedBytes: buffered)
        }
        return .needMoreData
    }
}

/// Prefixes each outbound payload with its 4-byte big-endian length.
public struct LengthPrefixedFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    /// Creates an encoder.
    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.reserveCapacity(Framing.headerSize + data.readableBytes)
        out.writeInteger(UInt32(data.readableBytes), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}
