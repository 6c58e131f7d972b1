import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import NIOEmbedded
import Testing

/// An active channel with the server's side of the protocol installed.
private func serverChannel(maximumFrameSize: Int = Framing.defaultMaximumFrameSize) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try MessagePipeline.configure(
        channel, inbound: ClientFrame.self, outbound: ServerFrame.self, maximumFrameSize: maximumFrameSize)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    return channel
}

/// A length-prefixed frame carrying `payload`.
private func frame(_ payload: some Sequence<UInt8>) -> ByteBuffer {
    let bytes = Array(payload)
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(bytes.count), endianness: .big)
    buffer.writeBytes(bytes)
    return buffer
}

private func frame(_ json: String) -> ByteBuffer {
    frame(Array(json.utf8))
}

/// The next inbound value, which must be a well-formed message.
private func readMessage<Message: Sendable>(
    _ channel: EmbeddedChannel, as type: Message.Type, sourceLocation: SourceLocation = #_sourceLocation
) throws -> Message? {
    let inbound = try #require(
        try channel.readInbound(as: Inbound<Message>.self), "no inbound value", sourceLocation: sourceLocation)
    switch inbound {
    case .message(let message):
        return message
    case .malformed(let error):
        Issue.record("expected a message, got malformed: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The next inbound value, which must be a malformed frame.
private func readMalformed(
    _ channel: EmbeddedChannel, sourceLocation: SourceLocation = #_sourceLocation
) throws -> MessageDecodingError? {
    let inbound = try #require(
        try channel.readInbound(as: Inbound<ClientFrame>.self), "no inbound value", sourceLocation: sourceLocation)
    switch inbound {
    case .message(let message):
        Issue.record("expected a malformed frame, got \(message)", sourceLocation: sourceLocation)
        return nil
    case .malformed(let error):
        return error
    }
}

@Suite("Message pipeline")
struct PipelineTests {
    @Test("A framed JSON login request arrives as a message")
    func loginArrives() throws {
        let channel = try serverChannel()
        try channel.writeInbound(frame(#"{"v":1,"type":"login","id":1,"username":"+6591234567","password":"pw"}"#))
        let message = try readMessage(channel, as: ClientFrame.self)
        #expect(message == ClientFrame(id: 1, message: .login(username: "+6591234567", password: "pw")))
        #expect(try channel.readInbound(as: Inbound<ClientFrame>.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test("A request split across reads arrives once it is complete")
    func requestSplitAcrossReads() throws {
        let channel = try serverChannel()
        let bytes = Array(frame(#"{"v":1,"type":"download_tempid","id":2}"#).readableBytesView)
        for offset in stride(from: 0, to: bytes.count - 1, by: 5) {
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<min(offset + 5, bytes.count - 1)]))
            #expect(try channel.readInbound(as: Inbound<ClientFrame>.self) == nil)
        }
        try channel.writeInbound(ByteBuffer(bytes: bytes.suffix(1)))
        #expect(try readMessage(channel, as: ClientFrame.self) == ClientFrame(id: 2, message: .downloadTempID))
        #expect(try channel.finish().isClean)
    }

    @Test("A garbage payload arrives as malformed and the connection carries on")
    func garbageThenGoodFrame() throws {
        let channel = try serverChannel()
        try channel.writeInbound(frame([0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x7B]))
        let error = try #require(try readMalformed(channel))
        #expect(error.code == .badRequest)
        #expect(error.requestID == nil)
        #expect(channel.isActive)
        try channel.throwIfErrorCaught()

        try channel.writeInbound(frame(#"{"v":1,"type":"logout","id":3}"#))
        #expect(try readMessage(channel, as: ClientFrame.self) == ClientFrame(id: 3, message: .logout))
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    @Test("Good, bad and good frames in one read arrive in order")
    func mixedFramesInOneRead() throws {
        let channel = try serverChannel()
        var bytes = frame(#"{"v":1,"type":"logout","id":1}"#)
        bytes.writeImmutableBuffer(frame(#"{"v":2,"type":"logout","id":2}"#))
        bytes.writeImmutableBuffer(frame(#"{"v":1,"type":"dance","id":3}"#))
        bytes.writeImmutableBuffer(frame(""))
        bytes.writeImmutableBuffer(frame(#"{"type":"download_tempid","id":5}"#))
        try channel.writeInbound(bytes)

        #expect(try readMessage(channel, as: ClientFrame.self) == ClientFrame(id: 1, message: .logout))
        let version = try #require(try readMalformed(channel))
        #expect(version.code == .unsupportedVersion)
        #expect(version.requestID == 2)
        let type = try #require(try readMalformed(channel))
        #expect(type.code == .unknownType)
        #expect(type.requestID == 3)
        let empty = try #require(try readMalformed(channel))
        #expect(empty.code == .badRequest)
        #expect(try readMessage(channel, as: ClientFrame.self) == ClientFrame(id: 5, message: .downloadTempID))
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    @Test("A ServerFrame written outbound becomes one length-prefixed JSON frame")
    func outboundFrame() throws {
        let channel = try serverChannel()
        let reply = ServerFrame(
            id: 7,
            message: .tempID(
                TempID("12345678901234567891")!,
                ValidityWindow(
                    start: Timestamp(secondsSinceEpoch: 1_589_392_446),
                    expiry: Timestamp(secondsSinceEpoch: 1_589_393_345))))
        try channel.writeOutbound(reply)
        var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        let length = written.readInteger(endianness: .big, as: UInt32.self)
        #expect(length.map(Int.init) == written.readableBytes)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(written.readableBytesView)) as? [String: Any])
        #expect(object["v"] as? Int == 1)
        #expect(object["type"] as? String == "tempid")
        #expect(object["id"] as? Int == 7)
        #expect(object["tempID"] as? String == "12345678901234567891")
        #expect(object["start"] as? Int == 1_589_392_446)
        #expect(object["expiry"] as? Int == 1_589_393_345)
        #expect(try MessageCoder().decode(ServerFrame.self, from: written) == reply)
        #expect(try channel.finish().isClean)
    }

    @Test("Each outbound message is its own frame")
    func severalOutboundFrames() throws {
        let channel = try serverChannel()
        let replies = [
            ServerFrame(id: 1, message: .welcome(message: "Welcome!")),
            ServerFrame(id: nil, message: .goingAway(message: "bye")),
        ]
        for reply in replies {
            try channel.writeOutbound(reply)
        }
        for reply in replies {
            var written = try #require(try channel.readOutbound(as: ByteBuffer.self))
            let length = written.readInteger(endianness: .big, as: UInt32.self)
            #expect(length.map(Int.init) == written.readableBytes)
            #expect(try MessageCoder().decode(ServerFrame.self, from: written) == reply)
        }
        #expect(try channel.finish().isClean)
    }

    @Test("An oversized frame header is an error as soon as it arrives")
    func oversizedFrame() throws {
        let channel = try serverChannel(maximumFrameSize: 64)
        var header = ByteBuffer()
        header.writeInteger(UInt32(65), endianness: .big)
        #expect(throws: FrameError.frameTooLarge(length: 65, maximum: 64)) {
            try channel.writeInbound(header)
        }
        #expect(try channel.readInbound(as: Inbound<ClientFrame>.self) == nil)
        _ = try channel.finish()
    }

    @Test("An oversized frame header is an error with the default maximum too")
    func oversizedFrameDefaultMaximum() throws {
        let channel = try serverChannel()
        var bytes = frame(#"{"v":1,"type":"logout","id":1}"#)
        bytes.writeInteger(UInt32(Framing.defaultMaximumFrameSize + 1), endianness: .big)
        #expect(throws: FrameError.frameTooLarge(length: Framing.defaultMaximumFrameSize + 1, maximum: 16_777_216)) {
            try channel.writeInbound(bytes)
        }
        #expect(try readMessage(channel, as: ClientFrame.self) == ClientFrame(id: 1, message: .logout))
        _ = try channel.finish()
    }

    @Test("A connection closed in the middle of a frame reports the truncation")
    func truncatedFrame() throws {
        let channel = try serverChannel()
        let bytes = frame(#"{"v":1,"type":"logout","id":1}"#)
        try channel.writeInbound(bytes.getSlice(at: 0, length: 10)!)
        #expect(throws: FrameError.truncated(bufferedBytes: 10)) {
            try channel.finish()
        }
        #expect(try channel.readInbound(as: Inbound<ClientFrame>.self) == nil)
    }

    @Test("A client's pipeline talks to a server's pipeline")
    func clientToServer() throws {
        let server = try serverChannel()
        let client = EmbeddedChannel()
        try MessagePipeline.configure(client, inbound: ServerFrame.self, outbound: ClientFrame.self)

        let request = ClientFrame(
            id: 9,
            message: .uploadContactLog([
                .encounter(
                    ReportedEncounter(
                        tempID: TempID("12345678901234567891")!,
                        validity: ValidityWindow(
                            start: Timestamp(secondsSinceEpoch: 100), expiry: Timestamp(secondsSinceEpoch: 999)),
                        receivedAt: Timestamp(secondsSinceEpoch: 500)))
            ]))
        try client.writeOutbound(request)
        let requestBytes = try #require(try client.readOutbound(as: ByteBuffer.self))
        try server.writeInbound(requestBytes)
        #expect(try readMessage(server, as: ClientFrame.self) == request)

        let reply = ServerFrame(id: 9, message: .uploadReceipt(UploadReceipt(received: 1, matched: 1, unmatched: [])))
        try server.writeOutbound(reply)
        let replyBytes = try #require(try server.readOutbound(as: ByteBuffer.self))
        try client.writeInbound(replyBytes)
        #expect(try readMessage(client, as: ServerFrame.self) == reply)

        #expect(try server.finish().isClean)
        #expect(try client.finish().isClean)
    }
}
