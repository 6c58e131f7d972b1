import BlueTraceDomain
import BlueTraceServer
import BlueTraceWire

/// The protocol stub's answers: every request gets a canned reply at once (no store, no password hashing, no TempID
/// made), through the same transport as the real server (`BlueTraceServer`: its listener, child-channel setup and
/// `SessionHandler`).
///
/// `bluetrace bench --spawn --stub-server` runs the load against it to measure the ceiling the transport alone puts
/// on this machine: no real server can go faster than its stub.
struct StubResponder: SessionResponder {
    /// The replies: a fixed TempID, a receipt saying every entry was traced.
    private static let tempID = TempID("12345678901234567891")!
    private static let validity = ValidityWindow(
        start: Timestamp(secondsSinceEpoch: 1_767_571_200), expiry: Timestamp(secondsSinceEpoch: 1_767_572_099))

    func respond(to message: ClientMessage, from user: String?, reply: @escaping @Sendable (SessionReply) -> Void) {
        switch message {
        case .login(let username, _):
            reply(SessionReply(.welcome(message: "Welcome to the BlueTrace Simulator!"), change: .loggedIn(username)))
        case .register(let username, _): reply(SessionReply(.registered(message: "Account \(username) created.")))
        case .downloadTempID: reply(SessionReply(.tempID(Self.tempID, Self.validity)))
        case .uploadContactLog(let entries, _):
            reply(
                SessionReply(
                    .uploadReceipt(UploadReceipt(received: entries.count, matched: entries.count, unmatched: []))))
        case .logout: reply(SessionReply(.loggedOut, change: .close))
        case .acknowledgeNotice: reply(SessionReply(.noticeAcknowledged))
        }
    }
}
