import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import Testing

// MARK: - Helpers

private var coder: MessageCoder { MessageCoder() }

private func tempID(_ text: String) -> TempID {
    TempID(text)!
}

private func window(_ start: Int64, _ expiry: Int64) -> ValidityWindow {
    ValidityWindow(start: Timestamp(secondsSinceEpoch: start), expiry: Timestamp(secondsSinceEpoch: expiry))
}

/// A message as the server and the client write it: by the hand-written JSON writer.
private func encode<Message: JSONFrameEncodable>(_ message: Message) -> ByteBuffer {
    coder.encode(message, allocator: ByteBufferAllocator())
}

private func decodeClient(_ json: String) throws(MessageDecodingError) -> ClientFrame {
    try coder.decode(ClientFrame.self, from: ByteBuffer(string: json))
}

private func decodeServer(_ json: String) throws(MessageDecodingError) -> ServerFrame {
    try coder.decode(ServerFrame.self, from: ByteBuffer(string: json))
}

/// The error decoding `payload` as a client frame gives; records an issue and returns `nil` if it decodes.
private func clientDecodingError(
    _ payload: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation
) -> MessageDecodingError? {
    do throws(MessageDecodingError) {
        let frame = try coder.decode(ClientFrame.self, from: payload)
        Issue.record("expected a decoding error, decoded \(frame)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

private func clientDecodingError(
    _ json: String, sourceLocation: SourceLocation = #_sourceLocation
) -> MessageDecodingError? {
    clientDecodingError(ByteBuffer(string: json), sourceLocation: sourceLocation)
}

/// The top-level JSON object of an encoded payload.
private func jsonObject(_ payload: ByteBuffer) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(payload.readableBytesView))
    return try #require(object as? [String: Any])
}

// MARK: - Round trips

@Suite("Message JSON round trips")
struct MessageRoundTripTests {
    static let clientFrames: [ClientFrame] = [
        ClientFrame(id: 0, message: .login(username: "+6591234567", password: "s3cret")),
        ClientFrame(id: 1, message: .login(username: "", password: "pa\"ss, wörd\n🔑")),
        ClientFrame(id: 2, message: .downloadTempID),
        ClientFrame(id: 3, message: .uploadContactLog([])),
        ClientFrame(
            id: 4,
            message: .uploadContactLog([
                .encounter(ReportedEncounter(tempID: tempID("12345678901234567891"), validity: window(100, 999))),
                .encounter(
                    ReportedEncounter(
                        tempID: tempID("sealed+token/=="), validity: window(5, 5),
                        receivedAt: Timestamp(secondsSinceEpoch: 5))),
            ])),
        ClientFrame(id: 5, message: .logout),
        ClientFrame(id: UInt64.max, message: .logout),
    ]

    @Test("Every client message survives encoding and decoding", arguments: clientFrames)
    func clientRoundTrip(frame: ClientFrame) throws {
        let decoded = try decodeClient(String(buffer: encode(frame)))
        #expect(decoded == frame)
    }

    static let serverFrames: [ServerFrame] = [
        ServerFrame(id: 1, message: .welcome(message: "Welcome to the BlueTrace Simulator!")),
        ServerFrame(id: 2, message: .tempID(tempID("12345678901234567891"), window(1_589_392_446, 1_589_393_345))),
        ServerFrame(id: 3, message: .uploadReceipt(UploadReceipt(received: 0, matched: 0, unmatched: []))),
        ServerFrame(
            id: 4,
            message: .uploadReceipt(
                UploadReceipt(
                    received: 5, matched: 1,
                    unmatched: [
                        UnmatchedEntry(index: 0, tempID: "11111111111111111111", reason: .unknownID),
                        UnmatchedEntry(
                            index: 2, tempID: "22222222222222222222", reason: .timeMismatch, detail: "times differ"),
                        UnmatchedEntry(index: 3, tempID: nil, reason: .malformed, detail: nil),
                    ]
                        + UnmatchedReason.allCases.enumerated().map { offset, reason in
                            UnmatchedEntry(index: 10 + offset, tempID: "x\(offset)", reason: reason, detail: "d")
                        }))),
        ServerFrame(id: 5, message: .loggedOut),
        ServerFrame(id: 6, message: .error(.invalidPassword, message: "Invalid Password. Please try again")),
        ServerFrame(id: nil, message: .error(.internalError, message: "")),
        ServerFrame(id: nil, message: .goingAway(message: "The server is shutting down")),
        ServerFrame(id: nil, message: .welcome(message: "unsolicited \"quoted\" ünïcode")),
    ]

    @Test("Every server message survives encoding and decoding", arguments: serverFrames)
    func serverRoundTrip(frame: ServerFrame) throws {
        let decoded = try decodeServer(String(buffer: encode(frame)))
        #expect(decoded == frame)
    }

    static let knownErrorCodes = WireErrorCode.allCases

    @Test("Every error code survives encoding and decoding", arguments: knownErrorCodes)
    func errorCodeRoundTrip(code: WireErrorCode) throws {
        let frame = ServerFrame(id: 9, message: .error(code, message: "m"))
        let payload = encode(frame)
        #expect(try jsonObject(payload)["code"] as? String == code.rawValue)
        #expect(try decodeServer(String(buffer: payload)) == frame)
    }

    @Test("A client frame is one object with v, type and id plus its own fields")
    func clientWireShape() throws {
        let login = try jsonObject(encode(ClientFrame(id: 42, message: .login(username: "u", password: "p"))))
        #expect(login["v"] as? Int == 1)
        #expect(login["type"] as? String == "login")
        #expect(login["id"] as? Int == 42)
        #expect(login["username"] as? String == "u")
        #expect(login["password"] as? String == "p")
        #expect(login.count == 5)

        let upload = try jsonObject(
            encode(
                ClientFrame(
                    id: 7,
                    message: .uploadContactLog([
                        .encounter(
                            ReportedEncounter(
                                tempID: tempID("12345678901234567891"), validity: window(10, 20),
                                receivedAt: Timestamp(secondsSinceEpoch: 15)))
                    ]))))
        #expect(upload["type"] as? String == "upload_contact_log")
        let entries = try #require(upload["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries[0]["tempID"] as? String == "12345678901234567891")
        #expect(entries[0]["start"] as? Int == 10)
        #expect(entries[0]["expiry"] as? Int == 20)
        #expect(entries[0]["received"] as? Int == 15)

        for (message, type) in [(ClientMessage.downloadTempID, "download_tempid"), (.logout, "logout")] {
            let object = try jsonObject(encode(ClientFrame(id: 1, message: message)))
            #expect(object["type"] as? String == type)
            #expect(object.count == 3)
        }
    }

    @Test("A server notice without a request id has no id field")
    func serverNoticeWithoutID() throws {
        let object = try jsonObject(encode(ServerFrame(id: nil, message: .goingAway(message: "bye"))))
        #expect(object["id"] == nil)
        #expect(object["v"] as? Int == 1)
        #expect(object["type"] as? String == "going_away")
        #expect(object["message"] as? String == "bye")
    }

    @Test("A malformed upload entry is sent with its TempID and read back as malformed")
    func malformedEntryEncoding() throws {
        let frame = ClientFrame(
            id: 3,
            message: .uploadContactLog([
                .malformed(tempID: "bad id", reason: "whatever"),
                .malformed(tempID: nil, reason: "whatever"),
            ]))
        let decoded = try decodeClient(String(buffer: encode(frame)))
        guard case .uploadContactLog(let entries, _) = decoded.message else {
            Issue.record("expected an upload, got \(decoded.message)")
            return
        }
        #expect(entries.count == 2)
        guard case .malformed(let first, _) = entries[0], case .malformed(let second, _) = entries[1] else {
            Issue.record("expected two malformed entries, got \(entries)")
            return
        }
        #expect(first == "bad id")
        #expect(second == nil)
    }
}

// MARK: - Decoding client requests

@Suite("Decoding client requests")
struct ClientDecodingTests {
    static let validStart: Int64 = 1_589_392_446
    static let validExpiry: Int64 = 1_589_393_345

    static let handWritten: [(json: String, expected: ClientFrame)] = [
        (
            #"{"v":1,"type":"login","id":1,"username":"+6591234567","password":"hunter2"}"#,
            ClientFrame(id: 1, message: .login(username: "+6591234567", password: "hunter2"))
        ),
        (
            #"{"v":1,"type":"download_tempid","id":2}"#,
            ClientFrame(id: 2, message: .downloadTempID)
        ),
        (
            #"""
            {
              "v": 1, "type": "upload_contact_log", "id": 3,
              "entries": [
                {"tempID": "12345678901234567891", "start": 1589392446, "expiry": 1589393345, "received": 1589392500},
                {"tempID": "98765432109876543210", "start": 1589392446, "expiry": 1589393345}
              ]
            }
            """#,
            ClientFrame(
                id: 3,
                message: .uploadContactLog([
                    .encounter(
                        ReportedEncounter(
                            tempID: tempID("12345678901234567891"), validity: window(validStart, validExpiry),
                            receivedAt: Timestamp(secondsSinceEpoch: 1_589_392_500))),
                    .encounter(
                        ReportedEncounter(
                            tempID: tempID("98765432109876543210"), validity: window(validStart, validExpiry))),
                ]))
        ),
        (
            #"{"v":1,"type":"upload_contact_log","id":4,"entries":[]}"#,
            ClientFrame(id: 4, message: .uploadContactLog([]))
        ),
        (
            #"{"v":1,"type":"logout","id":5}"#,
            ClientFrame(id: 5, message: .logout)
        ),
        (
            #"{"id":18446744073709551615,"type":"logout","v":1}"#,
            ClientFrame(id: UInt64.max, message: .logout)
        ),
    ]

    @Test("Hand-written requests of every type decode", arguments: handWritten)
    func handWrittenRequest(json: String, expected: ClientFrame) throws {
        #expect(try decodeClient(json) == expected)
    }

    static let withUnknownFields: [(json: String, expected: ClientFrame)] = [
        (
            #"{"v":1,"type":"logout","id":6,"extra":{"nested":[1,2,{"x":null}]},"username":42,"flag":true}"#,
            ClientFrame(id: 6, message: .logout)
        ),
        (
            #"{"v":1,"type":"login","id":7,"username":"u","password":"p","device":"pixel","trace":[1.5]}"#,
            ClientFrame(id: 7, message: .login(username: "u", password: "p"))
        ),
        (
            #"{"v":1,"type":"upload_contact_log","id":8,"entries":[{"tempID":"abc","start":1,"expiry":2,"rssi":-70}]}"#,
            ClientFrame(
                id: 8,
                message: .uploadContactLog([
                    .encounter(ReportedEncounter(tempID: tempID("abc"), validity: window(1, 2)))
                ]))
        ),
    ]

    @Test("Unknown fields are ignored", arguments: withUnknownFields)
    func unknownFieldsIgnored(json: String, expected: ClientFrame) throws {
        #expect(try decodeClient(json) == expected)
    }

    @Test("A request without v is read as protocol version 1")
    func missingVersionIsVersionOne() throws {
        #expect(
            try decodeClient(#"{"type":"download_tempid","id":11}"#) == ClientFrame(id: 11, message: .downloadTempID))
        #expect(
            try decodeClient(#"{"type":"login","id":12,"username":"a","password":"b"}"#)
                == ClientFrame(id: 12, message: .login(username: "a", password: "b")))
    }

    @Test("Another protocol version is refused with the request id", arguments: [0, 2, 99, -1])
    func unsupportedVersion(version: Int) throws {
        let error = try #require(clientDecodingError(#"{"v":\#(version),"type":"login","id":21}"#))
        #expect(error.code == .unsupportedVersion)
        #expect(error.requestID == 21)
        #expect(error.message.contains("\(version)"))
    }

    @Test("The version is checked before the type")
    func versionCheckedBeforeType() throws {
        let error = try #require(clientDecodingError(#"{"v":2,"type":"teleport","id":22}"#))
        #expect(error.code == .unsupportedVersion)
        #expect(error.requestID == 22)
    }

    @Test("An unknown type is refused with the request id", arguments: ["teleport", "LOGIN", "", "tempid"])
    func unknownType(type: String) throws {
        let error = try #require(clientDecodingError(#"{"v":1,"type":"\#(type)","id":31}"#))
        #expect(error.code == .unknownType)
        #expect(error.requestID == 31)
        #expect(error.message.contains("\"\(type)\""))
    }

    static let invalidPayloads: [(name: String, bytes: [UInt8])] = [
        ("an unterminated object", Array("{".utf8)),
        ("an array", Array("[]".utf8)),
        ("null", Array("null".utf8)),
        ("a number", Array("42".utf8)),
        ("a string", Array("\"login\"".utf8)),
        ("random bytes", [0x9F, 0x00, 0xC3, 0x28, 0xFF, 0x13, 0x37, 0x7B]),
        ("an empty payload", []),
        ("whitespace", Array("  \n ".utf8)),
        ("trailing garbage", Array(#"{"v":1,"type":"logout","id":1} x"#.utf8)),
        ("a UTF-8 byte-order mark and garbage", [0xEF, 0xBB, 0xBF, 0x7B, 0x7B]),
    ]

    @Test("A payload that is not a JSON object is a bad request", arguments: invalidPayloads)
    func invalidJSON(name: String, bytes: [UInt8]) throws {
        let error = try #require(clientDecodingError(ByteBuffer(bytes: bytes)))
        #expect(error.code == .badRequest, "\(name)")
        #expect(error.requestID == nil, "\(name)")
        #expect(!error.message.isEmpty)
    }

    @Test("Invalid JSON is explained as such")
    func invalidJSONMessage() throws {
        #expect(try #require(clientDecodingError("{")).message == "invalid JSON")
        #expect(try #require(clientDecodingError("")).message == "invalid JSON")
    }

    @Test("A request without an id is a bad request naming the field")
    func missingID() throws {
        let error = try #require(clientDecodingError(#"{"v":1,"type":"logout"}"#))
        #expect(error.code == .badRequest)
        #expect(error.message == #"missing field "id""#)
        #expect(error.requestID == nil)
    }

    static let missingFields: [(json: String, field: String)] = [
        (#"{"v":1,"id":41}"#, "type"),
        (#"{"v":1,"type":"login","id":41,"password":"p"}"#, "username"),
        (#"{"v":1,"type":"login","id":41,"username":"u"}"#, "password"),
        (#"{"v":1,"type":"upload_contact_log","id":41}"#, "entries"),
    ]

    @Test("A missing required field is a bad request naming it, with the request id", arguments: missingFields)
    func missingField(json: String, field: String) throws {
        let error = try #require(clientDecodingError(json))
        #expect(error.code == .badRequest)
        #expect(error.message == "missing field \"\(field)\"")
        #expect(error.requestID == 41)
    }

    static let wrongTypes: [(json: String, field: String, requestID: UInt64?)] = [
        (#"{"v":1,"type":"logout","id":"7"}"#, "id", nil),
        (#"{"v":1,"type":"logout","id":-7}"#, "id", nil),
        (#"{"v":1,"type":"logout","id":1.5}"#, "id", nil),
        (#"{"v":1,"type":"logout","id":18446744073709551616}"#, "id", nil),
        (#"{"v":"1","type":"logout","id":51}"#, "v", 51),
        (#"{"v":1.5,"type":"logout","id":51}"#, "v", 51),
        (#"{"v":1,"type":5,"id":51}"#, "type", 51),
        (#"{"v":1,"type":null,"id":51}"#, "type", 51),
        (#"{"v":1,"type":"login","id":51,"username":5,"password":"p"}"#, "username", 51),
        (#"{"v":1,"type":"login","id":51,"username":"u","password":null}"#, "password", 51),
        (#"{"v":1,"type":"login","id":51,"username":"u","password":["p"]}"#, "password", 51),
        (#"{"v":1,"type":"upload_contact_log","id":51,"entries":{}}"#, "entries", 51),
        (#"{"v":1,"type":"upload_contact_log","id":51,"entries":"none"}"#, "entries", 51),
    ]

    @Test("A field of the wrong type is a bad request naming the field", arguments: wrongTypes)
    func wrongFieldType(json: String, field: String, requestID: UInt64?) throws {
        let error = try #require(clientDecodingError(json))
        #expect(error.code == .badRequest)
        #expect(
            error.message.hasPrefix("field \(field) must be ") || error.message == "invalid value at \(field)",
            "\(error.message) should name \(field)")
        #expect(error.requestID == requestID)
    }

    @Test("Wrong field types are explained in words")
    func wrongFieldTypeMessages() throws {
        let username = try #require(
            clientDecodingError(#"{"v":1,"type":"login","id":1,"username":5,"password":"p"}"#))
        #expect(username.message == "field username must be a string")
        let id = try #require(clientDecodingError(#"{"v":1,"type":"logout","id":"1"}"#))
        #expect(id.message == "field id must be an integer")
        // JSONDecoder itself calls an out-of-range number "not valid JSON"; the field must still be named.
        let negativeID = try #require(clientDecodingError(#"{"v":1,"type":"logout","id":-1}"#))
        #expect(negativeID.message == "invalid value at id")
    }

    @Test("Upload entries are read one by one: good ones kept, bad ones reported in order")
    func lenientUploadEntries() throws {
        let json = #"""
            {"v":1,"type":"upload_contact_log","id":61,"entries":[
              {"tempID":"12345678901234567891","start":100,"expiry":999},
              5,
              "12345678901234567891",
              [],
              {"start":1,"expiry":2},
              {"tempID":"123 456","start":1,"expiry":2},
              {"tempID":42,"start":1,"expiry":2},
              {"tempID":"","start":1,"expiry":2},
              {"tempID":"abc","start":10,"expiry":5},
              {"tempID":"abc","start":"10","expiry":20},
              {"tempID":"abc","start":10},
              {"tempID":"abc","start":1.5,"expiry":2},
              {"tempID":"abc","start":1,"expiry":2,"received":"later"},
              {"tempID":"xyz","start":10,"expiry":10,"received":10,"extra":true},
              null,
              {"tempID":"98765432109876543210","start":0,"expiry":899,"received":null}
            ]}
            """#
        let frame = try decodeClient(json)
        #expect(frame.id == 61)
        guard case .uploadContactLog(let entries, _) = frame.message else {
            Issue.record("expected an upload, got \(frame.message)")
            return
        }
        let notObject = "entry is not a JSON object"
        let badTempID = "tempID must be 1–256 printable ASCII characters without spaces"
        let badTimes = "start and expiry must be Unix times in seconds"
        let expected: [UploadEntry] = [
            .encounter(ReportedEncounter(tempID: tempID("12345678901234567891"), validity: window(100, 999))),
            .malformed(tempID: nil, reason: notObject),
            .malformed(tempID: nil, reason: notObject),
            .malformed(tempID: nil, reason: notObject),
            .malformed(tempID: nil, reason: badTempID),
            .malformed(tempID: "123 456", reason: badTempID),
            .malformed(tempID: nil, reason: badTempID),
            .malformed(tempID: "", reason: badTempID),
            .malformed(tempID: "abc", reason: "expiry is before start"),
            .malformed(tempID: "abc", reason: badTimes),
            .malformed(tempID: "abc", reason: badTimes),
            .malformed(tempID: "abc", reason: badTimes),
            .malformed(tempID: "abc", reason: "received must be a Unix time in seconds"),
            .encounter(
                ReportedEncounter(
                    tempID: tempID("xyz"), validity: window(10, 10), receivedAt: Timestamp(secondsSinceEpoch: 10))),
            .malformed(tempID: nil, reason: notObject),
            .encounter(ReportedEncounter(tempID: tempID("98765432109876543210"), validity: window(0, 899))),
        ]
        #expect(entries.count == expected.count)
        for (index, (entry, want)) in zip(entries, expected).enumerated() {
            #expect(entry == want, "entry \(index)")
        }
    }

    @Test("A decoding error describes itself with its code")
    func decodingErrorDescription() {
        let error = MessageDecodingError(code: .badRequest, message: "missing field \"id\"")
        #expect(error.description == #"bad_request: missing field "id""#)
        #expect(error.requestID == nil)
    }
}

// MARK: - Decoding server replies

@Suite("Decoding server replies")
struct ServerDecodingTests {
    @Test("An error code this build does not know is read as unknown")
    func unknownErrorCode() throws {
        let frame = try decodeServer(#"{"v":1,"type":"error","id":3,"code":"rate_limited","message":"slow down"}"#)
        #expect(frame == ServerFrame(id: 3, message: .error(.unknown, message: "slow down")))
    }

    @Test("A notice without an id is read with a nil id")
    func noticeWithoutID() throws {
        let frame = try decodeServer(#"{"v":1,"type":"going_away","message":"bye"}"#)
        #expect(frame == ServerFrame(id: nil, message: .goingAway(message: "bye")))
    }

    @Test("Hand-written replies decode, ignoring unknown fields")
    func handWrittenReplies() throws {
        #expect(
            try decodeServer(
                #"{"v":1,"type":"tempid","id":2,"tempID":"12345678901234567891","start":10,"expiry":909,"x":[]}"#)
                == ServerFrame(id: 2, message: .tempID(tempID("12345678901234567891"), window(10, 909))))
        #expect(
            try decodeServer(
                #"""
                {"v":1,"type":"upload_receipt","id":4,"received":3,"matched":1,
                 "unmatched":[{"index":1,"reason":"unknown_id"},
                              {"index":2,"tempID":"a","reason":"time_mismatch","detail":"d","more":1}]}
                """#)
                == ServerFrame(
                    id: 4,
                    message: .uploadReceipt(
                        UploadReceipt(
                            received: 3, matched: 1,
                            unmatched: [
                                UnmatchedEntry(index: 1, tempID: nil, reason: .unknownID),
                                UnmatchedEntry(index: 2, tempID: "a", reason: .timeMismatch, detail: "d"),
                            ]))))
        #expect(try decodeServer(#"{"type":"logged_out","id":5}"#) == ServerFrame(id: 5, message: .loggedOut))
    }

    @Test("An unknown reply type is reported with its request id")
    func unknownReplyType() throws {
        do throws(MessageDecodingError) {
            let frame = try decodeServer(#"{"v":1,"type":"fireworks","id":8}"#)
            Issue.record("expected an error, decoded \(frame)")
        } catch {
            #expect(error.code == .unknownType)
            #expect(error.requestID == 8)
        }
    }

    @Test("An invalid TempID in a reply is a bad request")
    func invalidTempIDInReply() throws {
        do throws(MessageDecodingError) {
            let frame = try decodeServer(#"{"v":1,"type":"tempid","id":2,"tempID":"has space","start":1,"expiry":2}"#)
            Issue.record("expected an error, decoded \(frame)")
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.requestID == 2)
            #expect(error.message.contains("tempID"))
        }
    }
}

@Suite("Upload codes on the wire")
struct UploadCodeWireTests {
    @Test("An upload's code is written, and read back by both readers; without one the message is as before")
    func codeRoundTrip() throws {
        let withCode = ClientFrame(id: 9, message: .uploadContactLog([], code: "01234567"))
        let written = encode(withCode)
        #expect(String(buffer: written).contains(#""code":"01234567""#))
        #expect(try coder.decode(ClientFrame.self, from: written) == withCode)
        #expect(try coder.decodeWithFoundation(ClientFrame.self, from: written) == withCode)
        let without = encode(ClientFrame(id: 9, message: .uploadContactLog([])))
        #expect(!String(buffer: without).contains("code"))
        #expect(try coder.decode(ClientFrame.self, from: without) == ClientFrame(id: 9, message: .uploadContactLog([])))
    }

    @Test("A code that is not a string is a bad request, answered with the request's id")
    func codeNotAString() {
        let error = clientDecodingError(
            ByteBuffer(string: #"{"v":1,"type":"upload_contact_log","id":4,"code":12345678,"entries":[]}"#))
        #expect(error?.code == .badRequest)
        #expect(error?.requestID == 4)
    }

    @Test("The new error codes are read by name; older clients see them as unknown codes")
    func errorCodes() throws {
        for code in [WireErrorCode.uploadCodeRequired, .uploadCodeRefused] {
            let frame = ServerFrame(id: 2, message: .error(code, message: "m"))
            #expect(try coder.decode(ServerFrame.self, from: encode(frame)) == frame)
        }
    }
}

@Suite("Exposure notices on the wire")
struct ExposureNoticeWireTests {
    static let last = Timestamp(secondsSinceEpoch: 1_589_392_446)

    @Test("A welcome carries pending notices; a plain welcome is written as before; both readers agree")
    func welcome() throws {
        let frame = ServerFrame(
            id: 1, message: .welcome(message: "Welcome", notices: [WireNotice(noticeID: 7, lastEncounter: Self.last)]))
        let written = encode(frame)
        #expect(String(buffer: written).contains(#""notices":[{"noticeID":7,"lastEncounter":1589392446}]"#))
        #expect(try coder.decode(ServerFrame.self, from: written) == frame)
        #expect(try coder.decodeWithFoundation(ServerFrame.self, from: written) == frame)
        #expect(!String(buffer: encode(ServerFrame(id: 1, message: .welcome(message: "Welcome")))).contains("notices"))
    }

    @Test("A pushed notice has no id; its acknowledgement names it; both read back by both readers")
    func pushAndAcknowledge() throws {
        let push = ServerFrame(id: nil, message: .exposureNotice(noticeID: 3, lastEncounter: Self.last))
        #expect(!String(buffer: encode(push)).contains(#""id""#))
        #expect(try coder.decode(ServerFrame.self, from: encode(push)) == push)
        #expect(try coder.decodeWithFoundation(ServerFrame.self, from: encode(push)) == push)
        let ack = ClientFrame(id: 1 << 63 | 3, message: .acknowledgeNotice(noticeID: 3))
        #expect(try coder.decode(ClientFrame.self, from: encode(ack)) == ack)
        #expect(try coder.decodeWithFoundation(ClientFrame.self, from: encode(ack)) == ack)
        let reply = ServerFrame(id: 5, message: .noticeAcknowledged)
        #expect(try coder.decode(ServerFrame.self, from: encode(reply)) == reply)
    }
}
