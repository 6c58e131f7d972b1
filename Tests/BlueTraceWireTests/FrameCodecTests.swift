import BlueTraceWire
import NIOCore
import NIOEmbedded
import Testing

/// A channel whose only handler is the frame decoder.
private func decodingChannel(maximumFrameSize: Int = Framing.defaultMaximumFrameSize) -> EmbeddedChannel {
    EmbeddedChannel(handler: ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameSize: maximumFrameSize)))
}

/// The bytes of one frame: 4-byte big-endian length, then the payload.
private func frameBytes(_ payload: [UInt8]) -> [UInt8] {
    frameHeader(UInt32(payload.count)) + payload
}

private func frameHeader(_ length: UInt32) -> [UInt8] {
    [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
}

private func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}

/// Reads every frame the channel has decoded so far, as byte arrays.
private func readFrames(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while let frame = try channel.readInbound(as: ByteBuffer.self) {
        frames.append(Array(frame.readableBytesView))
    }
    return frames
}

@Suite("Length-prefixed frame decoder")
struct FrameDecoderTests {
    @Test("A whole frame in one read is delivered as its payload")
    func wholeFrame() throws {
        let channel = decodingChannel()
        try channel.writeInbound(buffer(frameBytes(Array("hello".utf8))))
        #expect(try readFrames(channel) == [Array("hello".utf8)])
        #expect(try channel.finish().isClean)
    }

    @Test("A frame delivered one byte at a time is delivered once, only after its last byte")
    func oneByteAtATime() throws {
        let channel = decodingChannel()
        let payload = Array("{\"type\":\"logout\",\"id\":7}".utf8)
        let bytes = frameBytes(payload)
        for byte in bytes.dropLast() {
            try channel.writeInbound(buffer([byte]))
            #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        }
        try channel.writeInbound(buffer([bytes.last!]))
        #expect(try readFrames(channel) == [payload])
        #expect(try channel.finish().isClean)
    }

    @Test("Several frames in one read are delivered in order")
    func severalFramesInOneBuffer() throws {
        let channel = decodingChannel()
        let payloads: [[UInt8]] = [Array("first".utf8), [], Array("second frame".utf8), [0x00, 0xFF]]
        try channel.writeInbound(buffer(payloads.flatMap(frameBytes)))
        #expect(try readFrames(channel) == payloads)
        #expect(try channel.finish().isClean)
    }

    @Test("A read that ends inside the next frame keeps its start for the following read")
    func frameStraddlingReads() throws {
        let channel = decodingChannel()
        let bytes = frameBytes(Array("one".utf8)) + frameBytes(Array("two".utf8))
        try channel.writeInbound(buffer(Array(bytes[..<9])))
        #expect(try readFrames(channel) == [Array("one".utf8)])
        try channel.writeInbound(buffer(Array(bytes[9...])))
        #expect(try readFrames(channel) == [Array("two".utf8)])
        #expect(try channel.finish().isClean)
    }

    @Test("A header split across reads is reassembled", arguments: 1...3)
    func headerSplitAcrossReads(split: Int) throws {
        let channel = decodingChannel()
        let bytes = frameBytes(Array("split".utf8))
        try channel.writeInbound(buffer(Array(bytes[..<split])))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(buffer(Array(bytes[split..<Framing.headerSize])))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(buffer(Array(bytes[Framing.headerSize...])))
        #expect(try readFrames(channel) == [Array("split".utf8)])
        #expect(try channel.finish().isClean)
    }

    @Test("A zero-length frame is delivered as an empty payload")
    func zeroLengthFrame() throws {
        let channel = decodingChannel()
        try channel.writeInbound(buffer([0, 0, 0, 0]))
        let frame = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(frame.readableBytes == 0)
        #expect(try channel.finish().isClean)
    }

    @Test("A frame of exactly the maximum size is accepted", arguments: [0, 1, 8, 100])
    func frameAtMaximum(maximum: Int) throws {
        let channel = decodingChannel(maximumFrameSize: maximum)
        let payload = (0..<maximum).map { UInt8(truncatingIfNeeded: $0) }
        try channel.writeInbound(buffer(frameBytes(payload)))
        #expect(try readFrames(channel) == [payload])
        #expect(try channel.finish().isClean)
    }

    @Test("A frame of exactly the default maximum (16 MiB) is accepted")
    func frameAtDefaultMaximum() throws {
        let channel = decodingChannel()
        let maximum = Framing.defaultMaximumFrameSize
        #expect(maximum == 16 * 1024 * 1024)
        try channel.writeInbound(buffer(frameHeader(UInt32(maximum))))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        var body = ByteBuffer()
        body.writeRepeatingByte(0x41, count: maximum)
        try channel.writeInbound(body)
        let frame = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(frame.readableBytes == maximum)
        #expect(try channel.finish().isClean)
    }

    @Test("A frame one byte over the maximum is rejected as soon as its 4-byte header arrives", arguments: [0, 8, 100])
    func frameOverMaximumRejectedFromHeader(maximum: Int) throws {
        let channel = decodingChannel(maximumFrameSize: maximum)
        let header = frameHeader(UInt32(maximum + 1))
        // Three bytes of the header are not enough to decide anything.
        try channel.writeInbound(buffer(Array(header.prefix(3))))
        // The fourth byte completes the header: no body byte is needed for the rejection.
        #expect(throws: FrameError.frameTooLarge(length: maximum + 1, maximum: maximum)) {
            try channel.writeInbound(buffer([header[3]]))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test("A header over the default maximum is rejected without the body being sent")
    func defaultMaximumPlusOneRejected() throws {
        let channel = decodingChannel()
        let maximum = Framing.defaultMaximumFrameSize
        #expect(throws: FrameError.frameTooLarge(length: maximum + 1, maximum: maximum)) {
            try channel.writeInbound(buffer(frameHeader(UInt32(maximum + 1))))
        }
        _ = try channel.finish()
    }

    @Test("A length of 0xFFFFFFFF is rejected as too large, not misread as negative")
    func maximalLengthRejected() throws {
        let channel = decodingChannel()
        #expect(throws: FrameError.frameTooLarge(length: 0xFFFF_FFFF, maximum: Framing.defaultMaximumFrameSize)) {
            try channel.writeInbound(buffer([0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02]))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test("Frames before an oversized one are still delivered")
    func framesBeforeOversizedOneDelivered() throws {
        let channel = decodingChannel(maximumFrameSize: 4)
        let bytes = frameBytes([1, 2, 3]) + frameHeader(5)
        #expect(throws: FrameError.frameTooLarge(length: 5, maximum: 4)) {
            try channel.writeInbound(buffer(bytes))
        }
        #expect(try readFrames(channel) == [[1, 2, 3]])
        _ = try channel.finish()
    }

    @Test("EOF in the middle of a frame's body reports a truncated frame")
    func eofInsideBody() throws {
        let channel = decodingChannel()
        let bytes = frameBytes(Array("complete".utf8)) + frameBytes(Array("cut short".utf8)).prefix(7)
        try channel.writeInbound(buffer(bytes))
        #expect(try readFrames(channel) == [Array("complete".utf8)])
        #expect(throws: FrameError.truncated(bufferedBytes: 7)) {
            try channel.finish()
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test("EOF in the middle of a frame's header reports a truncated frame", arguments: 1...3)
    func eofInsideHeader(buffered: Int) throws {
        let channel = decodingChannel()
        try channel.writeInbound(buffer(Array(frameHeader(10).prefix(buffered))))
        #expect(throws: FrameError.truncated(bufferedBytes: buffered)) {
            try channel.finish()
        }
    }

    @Test("EOF in the middle of a frame is caught by the channel when it closes")
    func eofErrorCaughtByChannel() throws {
        let channel = decodingChannel()
        try channel.writeInbound(buffer(frameHeader(3) + [0x61]))
        try channel.close().wait()
        #expect(throws: FrameError.truncated(bufferedBytes: 5)) {
            try channel.throwIfErrorCaught()
        }
        try channel.throwIfErrorCaught()
    }

    @Test("EOF between frames is a clean end")
    func eofBetweenFrames() throws {
        let channel = decodingChannel()
        try channel.writeInbound(buffer(frameBytes([1]) + frameBytes([2, 2])))
        #expect(try readFrames(channel) == [[1], [2, 2]])
        #expect(try channel.finish().isClean)
    }

    @Test("Frame errors describe themselves")
    func frameErrorDescriptions() {
        #expect(
            FrameError.frameTooLarge(length: 20, maximum: 10).description
                == "frame of 20 bytes exceeds the maximum of 10 bytes")
        #expect(FrameError.truncated(bufferedBytes: 3).description.contains("3 bytes buffered"))
    }
}

@Suite("Length-prefixed frame encoder")
struct FrameEncoderTests {
    private func encodingChannel() -> EmbeddedChannel {
        EmbeddedChannel(handler: MessageToByteHandler(LengthPrefixedFrameEncoder()))
    }

    @Test(
        "The encoder prefixes the payload with its big-endian length",
        arguments: [0, 1, 5, 255, 256, 65_537])
    func encodesPrefix(length: Int) throws {
        let channel = encodingChannel()
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try channel.writeOutbound(buffer(payload))
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(written.readableBytes == Framing.headerSize + length)
        let prefix = written.readInteger(endianness: .big, as: UInt32.self)
        #expect(prefix == UInt32(length))
        #expect(Array(written.readableBytesView) == payload)
        #expect(try channel.finish().isClean)
    }

    @Test("The encoder writes the exact header bytes")
    func exactHeaderBytes() throws {
        let channel = encodingChannel()
        let payload = [UInt8](repeating: 0x2A, count: 0x0102)
        try channel.writeOutbound(buffer(payload))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView.prefix(4)) == [0x00, 0x00, 0x01, 0x02])
        #expect(try channel.finish().isClean)
    }

    @Test("Encoded frames decode back to the same payloads")
    func encoderDecoderRoundTrip() throws {
        let encoder = encodingChannel()
        let payloads: [[UInt8]] = [[], Array("{}".utf8), [UInt8](repeating: 0xEE, count: 1000)]
        var stream: [UInt8] = []
        for payload in payloads {
            try encoder.writeOutbound(buffer(payload))
            let written = try #require(try encoder.readOutbound(as: ByteBuffer.self))
            stream += Array(written.readableBytesView)
        }
        let decoder = decodingChannel()
        try decoder.writeInbound(buffer(stream))
        #expect(try readFrames(decoder) == payloads)
        #expect(try encoder.finish().isClean)
        #expect(try decoder.finish().isClean)
    }
}
