import BlueTraceWire

/// The kinds of request of the phone protocol, for metrics kept per kind without hashing a name per request.
public enum RequestKind: Int, CaseIterable, Sendable {
    case login, register, downloadTempID, uploadContactLog, logout, acknowledgeNotice

    /// The kind of `message`.
    public init(_ message: ClientMessage) {
        self =
            switch message {
            case .login: .login
            case .register: .register
            case .downloadTempID: .downloadTempID
            case .uploadContactLog: .uploadContactLog
            case .logout: .logout
            case .acknowledgeNotice: .acknowledgeNotice
            }
    }

    /// The request's `type` on the wire (`download_tempid`), the name metrics label it with.
    public var name: String {
        switch self {
        case .login: "login"
        case .register: "register"
        case .downloadTempID: "download_tempid"
        case .uploadContactLog: "upload_contact_log"
        case .logout: "logout"
        case .acknowledgeNotice: "acknowledge_notice"
        }
    }
}
