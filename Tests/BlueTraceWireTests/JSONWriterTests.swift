import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import Testing

/// The JSON value of a payload, comparable whatever the key order or escaping.
private func jsonValue(_ payload: ByteBuffer) throws -> NSObject {
    try #require(JSONSerialization.jsonObject(with: Data(payload.readableBytesView)) as? NSObject)
}

private let allocator = ByteBufferAllocator()

/// The hand-written JSON of protocol messages must be the same JSON value `JSONEncoder` writes, and read back as the
/// same message: other implementations see no difference.
@Suite("Hand-written message JSON")
struct JSONWriterTests {
    static let awkwardStrings = [
        "", "plain", "quote \" and backslash \\", "slash / stays", "tab\tline\nreturn\r", "\u{0}\u{1}\u{1F}\u{7F}",
        "ünïcödé 🔑 中文", "\\u0041 is not unescaped", String(repeating: "x", count: 5_000),
    ]

    static let serverFrames: [ServerFrame] =
        awkwardStrings.map { ServerFrame(id: 1, message: .welcome(message: $0)) }
        + awkwardStrings.map { ServerFrame(id: nil, message: .error(.badRequest, message: $0)) }
        + [
            ServerFrame(
                id: UInt64.max,
                message: .tempID(
                    TempID("12345678901234567891")!,
                    ValidityWindow(
                        start: Timestamp(secondsSinceEpoch: -5), expiry: Timestamp(secondsSinceEpoch: Int64.max)))),
            ServerFrame(
                id: 0,
                message: .tempID(
                    TempID("a+b/c==")!,
                    ValidityWindow(start: Timestamp(secondsSinceEpoch: 0), expiry: Timestamp(secondsSinceEpoch: 899)),
                    following: (1...3).map {
                        IssuedTempID(
                            tempID: TempID("t\($0)")!,
                            validity: ValidityWindow(
                                start: Timestamp(secondsSinceEpoch: Int64($0) * 900),
                                expiry: Timestamp(secondsSinceEpoch: Int64($0) * 900 + 899)))
                    })),
            ServerFrame(
                id: 3,
                message: .uploadReceipt(
                    UploadReceipt(
                        received: 4, matched: 1,
                        unmatched: [
                            UnmatchedEntry(index: 0, tempID: nil, reason: .malformed, detail: "bad \"entry\""),
                            UnmatchedEntry(index: 2, tempID: "x", reason: .unknownID),
                        ]))),
            ServerFrame(id: 4, message: .uploadReceipt(UploadReceipt(received: 0, matched: 0, unmatched: []))),
            ServerFrame(id: 5, message: .loggedOut),
            ServerFrame(id: nil, message: .goingAway(message: "The server is shutting down.")),
            ServerFrame(id: 6, message: .registered(message: "Account +61400000000 created.")),
        ]

    @Test("Server messages: the same JSON value as JSONEncoder's, and decoded back unchanged", arguments: serverFrames)
    func serverFrameJSON(frame: ServerFrame) throws {
        let coder = MessageCoder()
        let handWritten = coder.encode(frame, allocator: allocator)
        let foundation = try JSONEncoder().encodeAsByteBuffer(frame, allocator: allocator)
        #expect(try jsonValue(handWritten) == jsonValue(foundation))
        #expect(try coder.decode(ServerFrame.self, from: handWritten) == frame)
    }

    static let clientFrames: [ClientFrame] =
        awkwardStrings.map { ClientFrame(id: 9, message: .login(username: $0, password: $0 + "!")) }
        + [
            ClientFrame(id: 1, message: .register(username: "+61400000000", password: "pass\"word")),
            ClientFrame(id: 2, message: .downloadTempID),
            ClientFrame(id: UInt64.max, message: .logout),
            ClientFrame(id: 4, message: .uploadContactLog([])),
            ClientFrame(
                id: 5,
                message: .uploadContactLog([
                    .encounter(
                        ReportedEncounter(
                            tempID: TempID("12345678901234567891")!,
                            validity: ValidityWindow(
                                start: Timestamp(secondsSinceEpoch: 100), expiry: Timestamp(secondsSinceEpoch: 999)))),
                    .encounter(
                        ReportedEncounter(
                            tempID: TempID("sealed+token/==")!,
                            validity: ValidityWindow(
                                start: Timestamp(secondsSinceEpoch: 5), expiry: Timestamp(secondsSinceEpoch: 5)),
                            receivedAt: Timestamp(secondsSinceEpoch: 5))),
                ])),
        ]

    @Test("Client messages: the same JSON value as JSONEncoder's, and decoded back unchanged", arguments: clientFrames)
    func clientFrameJSON(frame: ClientFrame) throws {
        let coder = MessageCoder()
        let handWritten = coder.encode(frame, allocator: allocator)
        let foundation = try JSONEncoder().encodeAsByteBuffer(frame, allocator: allocator)
        #expect(try jsonValue(handWritten) == jsonValue(foundation))
        #expect(try coder.decode(ClientFrame.self, from: handWritten) == frame)
    }

    @Test("A malformed upload entry is written as what it kept of the entry, as JSONEncoder does")
    func malformedEntries() throws {
        let frame = ClientFrame(
            id: 1,
            message: .uploadContactLog([
                .malformed(tempID: "bad id", reason: "r"), .malformed(tempID: nil, reason: "r"),
            ]))
        let coder = MessageCoder()
        #expect(
            try jsonValue(coder.encode(frame, allocator: allocator))
                == jsonValue(JSONEncoder().encodeAsByteBuffer(frame, allocator: allocator)))
    }

    @Test("Control characters are escaped; nothing else is")
    func escaping() {
        let payload = MessageCoder().encode(
            ServerFrame(id: nil, message: .welcome(message: "a\"b\\c\u{1}d\u{1F}é/")), allocator: allocator)
        #expect(String(buffer: payload).contains(#""message":"a\"b\\c\u0001d\u001fé/""#))
    }
}
