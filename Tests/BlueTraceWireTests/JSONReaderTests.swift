import BlueTraceDomain
import BlueTraceWire
import NIOCore
import Testing

/// Decodes `json` with the fast path (falling back as the server does) and with `JSONDecoder` alone.
private func bothWays<Frame: JSONFrameDecodable>(
    _ type: Frame.Type, _ json: String
) -> (fast: Result<Frame, MessageDecodingError>, full: Result<Frame, MessageDecodingError>) {
    let coder = MessageCoder()
    let payload = ByteBuffer(string: json)
    let fast = Result { () throws(MessageDecodingError) in try coder.decode(type, from: payload) }
    let full = Result { () throws(MessageDecodingError) in try coder.decodeWithFoundation(type, from: payload) }
    return (fast, full)
}

/// The fast reader of flat messages must never change what a payload means: the same frame or the same error as
/// `JSONDecoder`, for well-formed payloads and for every kind of oddity.
@Suite("Fast reading of flat messages")
struct JSONReaderTests {
    static let clientPayloads = [
        #"{"v":1,"type":"download_tempid","id":7}"#,
        #" { "id" : 7 , "type" : "download_tempid" } "#,
        #"{"v":1,"type":"login","id":1,"username":"+61410888888","password":"comp3331"}"#,
        #"{"v":1,"type":"register","id":2,"username":"\u002B614","password":"p\"a\\s\/s\n\t\b\f\r\u00e9\ud83d\udd11"}"#,
        #"{"v":1,"type":"logout","id":18446744073709551615,"extra":"ignored","more":12}"#,
        // Left to JSONDecoder, which must then answer as before:
        #"{"v":2,"type":"logout","id":1}"#,
        #"{"v":1,"type":"logout"}"#,
        #"{"v":1,"type":"logout","id":-1}"#,
        #"{"v":1,"type":"logout","id":1.0}"#,
        #"{"v":1,"type":"logout","id":1e2}"#,
        #"{"v":1,"type":"logout","id":01}"#,
        #"{"v":1,"type":"logout","id":18446744073709551616}"#,
        #"{"v":1,"type":"logout","id":"1"}"#,
        #"{"v":1,"type":"logout","id":null}"#,
        #"{"v":null,"type":"logout","id":1}"#,
        #"{"v":1,"type":"logout","id":1,"id":2}"#,
        #"{"v":1,"type":"login","id":1,"username":"u"}"#,
        #"{"v":1,"type":"login","id":1,"username":5,"password":"p"}"#,
        #"{"v":1,"type":"login","id":1,"username":"bad \ud800 surrogate","password":"p"}"#,
        #"{"v":1,"type":"login","id":1,"username":"bad \x escape","password":"p"}"#,
        "{\"v\":1,\"type\":\"login\",\"id\":1,\"username\":\"raw\ttab\",\"password\":\"p\"}",
        #"{"v":1,"type":"dance","id":1}"#,
        #"{"v":1,"type":"logout","id":1,"nested":{"a":1}}"#,
        #"{"v":1,"type":"logout","id":1} trailing"#,
        #"{"v":1,"type":"logout","id":1,}"#,
        #"[1,2]"#, "", "{",
        // Uploads: every way an entry can be malformed is judged as JSONDecoder's path judges it.
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"12345678901234567891","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"received":2}, {}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":5,"start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"bad id","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":"1","expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":3,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"received":"2"}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"received":null}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":9223372036854775808}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1.0,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"n":[1]}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[1, "two", {"tempID":"x","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2},]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":"none"}"#,
        #"{"v":1,"type":"upload_contact_log","id":3}"#,
        #"{"v":1,"type":"logout","id":3,"entries":[]}"#,
        // Entries of unusual shapes, which the entry reader leaves to the object reader: the same answers.
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"expiry":2,"received":1,"start":1,"tempID":"x"}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"temp\u0049D":"x","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"extra":"y"}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","tempID":"y","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"x":1,"x":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempIDs":"x","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"caf\u00e9","start":1,"expiry":2}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":-5,"expiry":18446744073709551615}]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[ { "tempID" : "x" , "start" : 1 , "expiry" : 2 } , {"start":1} ]}"#,
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2,"received":{"a":1}}]}"#,
    ]

    @Test("Client frames: the same frame or the same error as JSONDecoder", arguments: clientPayloads)
    func clientPayload(json: String) {
        let (fast, full) = bothWays(ClientFrame.self, json)
        #expect(fast == full)
    }

    static let serverPayloads = [
        #"{"v":1,"type":"tempid","id":3,"tempID":"12345678901234567891","start":1589392446,"expiry":1589393345}"#,
        #"{"v":1,"type":"tempid","id":3,"tempID":"bad id","start":1,"expiry":2}"#,
        #"{"v":1,"type":"tempid","id":3,"tempID":"x","start":-1,"expiry":-9223372036854775808}"#,
        #"{"v":1,"type":"tempid","id":3,"tempID":"x","start":1,"expiry":2,"following":[]}"#,
        #"{"v":1,"type":"welcome","id":1,"message":"Welcome to the BlueTrace Simulator!"}"#,
        #"{"v":1,"type":"error","code":"invalid_password","message":"Invalid Password. Please try again"}"#,
        #"{"v":1,"type":"error","id":4,"code":"from_the_future","message":"?"}"#,
        #"{"v":1,"type":"going_away","message":"The server is shutting down."}"#,
        #"{"v":1,"type":"registered","id":9,"message":"Account created."}"#,
        #"{"v":1,"type":"logged_out","id":5}"#,
        #"{"v":1,"type":"logged_out","id":null}"#,
        #"{"v":1,"type":"welcome","id":1}"#,
    ]

    @Test("Server frames: the same frame or the same error as JSONDecoder", arguments: serverPayloads)
    func serverPayload(json: String) {
        let (fast, full) = bothWays(ServerFrame.self, json)
        #expect(fast == full)
    }

    @Test("The common messages really take the fast path")
    func commonMessagesAreFlat() throws {
        let login = try #require(
            FlatJSONObject(ByteBuffer(string: #"{"v":1,"type":"login","id":1,"username":"u","password":"p\u00e9"}"#)))
        #expect(ClientFrame(flatJSON: login) == ClientFrame(id: 1, message: .login(username: "u", password: "pé")))
        let tempID = try #require(
            FlatJSONObject(ByteBuffer(string: #"{"v":1,"type":"tempid","id":2,"tempID":"1","start":1,"expiry":2}"#)))
        #expect(
            ServerFrame(flatJSON: tempID)
                == ServerFrame(
                    id: 2,
                    message: .tempID(
                        TempID("1")!,
                        ValidityWindow(start: Timestamp(secondsSinceEpoch: 1), expiry: Timestamp(secondsSinceEpoch: 2)))
                ))
        let upload = try #require(
            FlatJSONObject(
                ByteBuffer(
                    string:
                        #"{"v":1,"type":"upload_contact_log","id":3,"entries":[{"tempID":"x","start":1,"expiry":2}]}"#
                )))
        #expect(ClientFrame(flatJSON: upload) != nil)
        #expect(FlatJSONObject(ByteBuffer(string: #"{"a":[1]}"#)) == nil, "arrays of anything but objects are left")
        #expect(FlatJSONObject(ByteBuffer(string: #"{"a":[{"b":[]}]}"#)) == nil, "so is deeper nesting")
    }
}
