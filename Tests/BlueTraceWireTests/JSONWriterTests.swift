import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import Testing

/// The JSON value of a payload, as Foundation's `JSONSerialization` reads it: comparable whatever the key order or
/// escaping.
private func jsonValue(_ payload: ByteBuffer) throws -> NSObject {
    try #require(JSONSerialization.jsonObject(with: Data(payload.readableBytesView)) as? NSObject)
}

/// The JSON value of JSON text written out in a test.
private func jsonValue(_ json: String) throws -> NSObject {
    try jsonValue(ByteBuffer(string: json))
}

private let allocator = ByteBufferAllocator()

/// The hand-written JSON of protocol messages is their only writer, so it is checked against the JSON each message must
/// be, written out here by hand (field names, types, which fields are absent, string escapes), and read back through
/// both readers (the fast one of flat messages, falling back as the server does, and `JSONDecoder` alone) as the same
/// message.
@Suite("Hand-written message JSON")
struct JSONWriterTests {
    /// Strings that are awkward to write, each with its JSON spelled independently of the writer (it escapes only what
    /// it must; these use `\/` and `\u` escapes where they can, which must read as the same value).
    static let awkwardStrings: [(value: String, json: String)] = [
        ("", #""""#),
        ("plain", #""plain""#),
        ("quote \" and backslash \\", #""quote \u0022 and backslash \\""#),
        ("slash / stays", #""slash \/ stays""#),
        ("tab\tline\nreturn\r", #""tab\u0009line\u000Areturn\u000d""#),
        ("\u{0}\u{1}\u{1F}\u{7F}", #""\u0000\u0001\u001F\u007f""#),
        ("ünïcödé 🔑 中文", #""\u00fcn\u00efc\u00f6d\u00e9 \ud83d\udd11 \u4e2d\u6587""#),
        ("\\u0041 is not unescaped", #""\\u0041 is not unescaped""#),
        (String(repeating: "x", count: 5_000), "\"" + String(repeating: "x", count: 5_000) + "\""),
    ]

    static let serverFrames: [(frame: ServerFrame, json: String)] =
        awkwardStrings.map {
            (
                ServerFrame(id: 1, message: .welcome(message: $0.value)),
                #"{"v":1,"type":"welcome","id":1,"message":\#($0.json)}"#
            )
        }
        + awkwardStrings.map {
            (
                ServerFrame(id: nil, message: .error(.badRequest, message: $0.value)),
                #"{"v":1,"type":"error","code":"bad_request","message":\#($0.json)}"#
            )
        }
        + [
            (
                ServerFrame(
                    id: UInt64.max,
                    message: .tempID(
                        TempID("12345678901234567891")!,
                        ValidityWindow(
                            start: Timestamp(secondsSinceEpoch: -5),
                            expiry: Timestamp(secondsSinceEpoch: Int64.max)))),
                #"""
                {"v":1,"type":"tempid","id":18446744073709551615,"tempID":"12345678901234567891",
                 "start":-5,"expiry":9223372036854775807}
                """#
            ),
            (
                ServerFrame(
                    id: 0,
                    message: .tempID(
                        TempID("a+b/c==")!,
                        ValidityWindow(
                            start: Timestamp(secondsSinceEpoch: 0), expiry: Timestamp(secondsSinceEpoch: 899)),
                        following: (1...3).map {
                            IssuedTempID(
                                tempID: TempID("t\($0)")!,
                                validity: ValidityWindow(
                                    start: Timestamp(secondsSinceEpoch: Int64($0) * 900),
                                    expiry: Timestamp(secondsSinceEpoch: Int64($0) * 900 + 899)))
                        })),
                #"""
                {"v":1,"type":"tempid","id":0,"tempID":"a+b\/c==","start":0,"expiry":899,
                 "following":[{"tempID":"t1","start":900,"expiry":1799},
                              {"tempID":"t2","start":1800,"expiry":2699},
                              {"tempID":"t3","start":2700,"expiry":3599}]}
                """#
            ),
            (
                ServerFrame(
                    id: 3,
                    message: .uploadReceipt(
                        UploadReceipt(
                            received: 4, matched: 1,
                            unmatched: [
                                UnmatchedEntry(index: 0, tempID: nil, reason: .malformed, detail: "bad \"entry\""),
                                UnmatchedEntry(index: 2, tempID: "x", reason: .unknownID),
                            ]))),
                #"""
                {"v":1,"type":"upload_receipt","id":3,"received":4,"matched":1,
                 "unmatched":[{"index":0,"reason":"malformed","detail":"bad \"entry\""},
                              {"index":2,"tempID":"x","reason":"unknown_id"}]}
                """#
            ),
            (
                ServerFrame(id: 4, message: .uploadReceipt(UploadReceipt(received: 0, matched: 0, unmatched: []))),
                #"{"v":1,"type":"upload_receipt","id":4,"received":0,"matched":0,"unmatched":[]}"#
            ),
            (ServerFrame(id: 5, message: .loggedOut), #"{"v":1,"type":"logged_out","id":5}"#),
            (
                ServerFrame(id: nil, message: .goingAway(message: "The server is shutting down.")),
                #"{"v":1,"type":"going_away","message":"The server is shutting down."}"#
            ),
            (
                ServerFrame(id: 6, message: .registered(message: "Account +61400000000 created.")),
                #"{"v":1,"type":"registered","id":6,"message":"Account +61400000000 created."}"#
            ),
        ]

    @Test(
        "Server messages: the JSON written out here, and read back unchanged by both readers", arguments: serverFrames)
    func serverFrameJSON(frame: ServerFrame, json: String) throws {
        let coder = MessageCoder()
        let handWritten = coder.encode(frame, allocator: allocator)
        #expect(try jsonValue(handWritten) == jsonValue(json), "\(String(buffer: handWritten))")
        #expect(try coder.decode(ServerFrame.self, from: handWritten) == frame)
        #expect(try coder.decodeWithFoundation(ServerFrame.self, from: handWritten) == frame)
    }

    static let clientFrames: [(frame: ClientFrame, json: String)] =
        awkwardStrings.map {
            (
                ClientFrame(id: 9, message: .login(username: $0.value, password: $0.value + "!")),
                // The password is the same string with "!" before the closing quote.
                #"{"v":1,"type":"login","id":9,"username":\#($0.json),"password":\#($0.json.dropLast())!"}"#
            )
        }
        + [
            (
                ClientFrame(id: 1, message: .register(username: "+61400000000", password: "pass\"word")),
                #"{"v":1,"type":"register","id":1,"username":"+61400000000","password":"pass\"word"}"#
            ),
            (ClientFrame(id: 2, message: .downloadTempID), #"{"v":1,"type":"download_tempid","id":2}"#),
            (ClientFrame(id: UInt64.max, message: .logout), #"{"v":1,"type":"logout","id":18446744073709551615}"#),
            (
                ClientFrame(id: 4, message: .uploadContactLog([])),
                #"{"v":1,"type":"upload_contact_log","id":4,"entries":[]}"#
            ),
            (
                ClientFrame(
                    id: 5,
                    message: .uploadContactLog([
                        .encounter(
                            ReportedEncounter(
                                tempID: TempID("12345678901234567891")!,
                                validity: ValidityWindow(
                                    start: Timestamp(secondsSinceEpoch: 100),
                                    expiry: Timestamp(secondsSinceEpoch: 999)))),
                        .encounter(
                            ReportedEncounter(
                                tempID: TempID("sealed+token/==")!,
                                validity: ValidityWindow(
                                    start: Timestamp(secondsSinceEpoch: 5), expiry: Timestamp(secondsSinceEpoch: 5)),
                                receivedAt: Timestamp(secondsSinceEpoch: 5))),
                    ])),
                #"""
                {"v":1,"type":"upload_contact_log","id":5,
                 "entries":[{"tempID":"12345678901234567891","start":100,"expiry":999},
                            {"tempID":"sealed+token\/==","start":5,"expiry":5,"received":5}]}
                """#
            ),
        ]

    @Test(
        "Client messages: the JSON written out here, and read back unchanged by both readers", arguments: clientFrames)
    func clientFrameJSON(frame: ClientFrame, json: String) throws {
        let coder = MessageCoder()
        let handWritten = coder.encode(frame, allocator: allocator)
        #expect(try jsonValue(handWritten) == jsonValue(json), "\(String(buffer: handWritten))")
        #expect(try coder.decode(ClientFrame.self, from: handWritten) == frame)
        #expect(try coder.decodeWithFoundation(ClientFrame.self, from: handWritten) == frame)
    }

    @Test(
        "A message encoded once is, under any request id, byte for byte the frame written whole",
        arguments: clientFrames.map(\.frame)
            + [
                ClientFrame(
                    id: 1, message: .uploadContactLog([.malformed(tempID: "bad id", reason: "r")], code: "7Q2X"))
            ]
    )
    func encodedOnce(frame: ClientFrame) {
        let encoded = EncodedClientMessage(frame.message, allocator: allocator)
        for id in [frame.id, 0, 42, UInt64.max] {
            var whole = allocator.buffer(capacity: 64)
            Framing.write(ClientFrame(id: id, message: frame.message), into: &whole)
            var pieces = encoded.head(id: id, allocator: allocator)
            pieces.writeImmutableBuffer(encoded.fields)
            #expect(pieces == whole, "id \(id): \(String(buffer: pieces))")
        }
    }

    @Test("A malformed upload entry is written as what it kept of the entry: its TempID, if it had one")
    func malformedEntries() throws {
        let frame = ClientFrame(
            id: 1,
            message: .uploadContactLog([
                .malformed(tempID: "bad id", reason: "r"), .malformed(tempID: nil, reason: "r"),
            ]))
        let coder = MessageCoder()
        #expect(
            try jsonValue(coder.encode(frame, allocator: allocator))
                == jsonValue(#"{"v":1,"type":"upload_contact_log","id":1,"entries":[{"tempID":"bad id"},{}]}"#))
    }

    @Test("The expected JSON tells apart what the writer could get wrong")
    func oracleIsStrict() throws {
        // The comparison above is of JSON values; these pairs differ only in what a broken writer might do.
        #expect(try jsonValue(#"{"id":1}"#) != jsonValue(#"{"id":"1"}"#))
        #expect(try jsonValue(#"{"v":1,"type":"logged_out"}"#) != jsonValue(#"{"v":1,"type":"logged_out","id":5}"#))
        #expect(try jsonValue(#"{"id":18446744073709551615}"#) != jsonValue(#"{"id":18446744073709551614}"#))
        #expect(try jsonValue(#"{"m":"a\\b"}"#) != jsonValue(#"{"m":"a\\\\b"}"#))
        #expect(try jsonValue(#"{"m":"\u0001"}"#) != jsonValue(#"{"m":"\\u0001"}"#))
        #expect(try jsonValue(#"{"a":[{"b":1}]}"#) != jsonValue(#"{"a":[{"b":1,"c":null}]}"#))
    }

    @Test("Control characters are escaped; nothing else is")
    func escaping() {
        let payload = MessageCoder().encode(
            ServerFrame(id: nil, message: .welcome(message: "a\"b\\c\u{1}d\u{1F}é/")), allocator: allocator)
        #expect(String(buffer: payload).contains(#""message":"a\"b\\c\u0001d\u001fé/""#))
    }
}

/// Integers are written digit by digit into the frame: they must read exactly as `String(value)` spells them.
@Suite("JSON integers")
struct JSONIntegerTests {
    @Test("Times and ids of every size, the extremes included, are written as their decimal text")
    func integers() throws {
        var generator = SystemRandomNumberGenerator()
        let values: [Int64] =
            [0, 1, -1, 9, 10, -10, 99, 100, 1_589_391_906, Int64.max, Int64.min, Int64.min + 1]
            + (0..<1_000).map { _ in
                Int64.random(in: Int64.min...Int64.max, using: &generator)
                    >> Int64.random(in: 0...62, using: &generator)
            }
        for value in values {
            let frame = ClientFrame(id: 1, message: .acknowledgeNotice(noticeID: value))
            var buffer = ByteBuffer()
            frame.writeJSON(into: &buffer)
            let text = String(buffer: buffer)
            #expect(text.contains("\"noticeID\":\(value)}"), "\(text)")
        }
        // An id above Int64.max is written too.
        var buffer = ByteBuffer()
        ClientFrame(id: UInt64.max, message: .logout).writeJSON(into: &buffer)
        #expect(String(buffer: buffer).contains("\"id\":18446744073709551615"))
    }
}
