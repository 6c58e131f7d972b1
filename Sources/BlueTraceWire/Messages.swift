import BlueTraceDomain

/// The version of the client–server protocol this build speaks (the `v` field of every message).
public enum ProtocolVersion {
    /// The current version.
    public static let current = 1
}

/// A request from a client, as carried in one frame.
public struct ClientFrame: Hashable, Sendable {
    /// The client's request id; the reply carries the same one.
    public var id: UInt64
    /// The request.
    public var message: ClientMessage

    /// Creates a frame.
    public init(id: UInt64, message: ClientMessage) {
        self.id = id
        self.message = message
    }
}

/// What a client can ask of the server.
public enum ClientMessage: Hashable, Sendable {
    /// Authenticate this connection as `username`.
    case login(username: String, password: String)
    /// Create an account (then log in with `login`).
    case register(username: String, password: String)
    /// Issue a fresh TempID to the logged-in user.
    case downloadTempID
    /// Upload the logged-in user's contact log for tracing, with the one-time code an official gave, if any.
    case uploadContactLog([UploadEntry], code: String? = nil)
    /// End the session.
    case logout
    /// The phone has shown exposure notice `noticeID` to its user.
    case acknowledgeNotice(noticeID: Int64)

    /// The kinds of client message, for what is kept per kind (metrics) without hashing a name per message.
    public enum Kind: Int, CaseIterable, Sendable {
        case login, register, downloadTempID, uploadContactLog, logout, acknowledgeNotice

        /// The `type` field naming a message of this kind (`download_tempid`).
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

    /// This message's kind.
    public var kind: Kind {
        switch self {
        case .login: .login
        case .register: .register
        case .downloadTempID: .downloadTempID
        case .uploadContactLog: .uploadContactLog
        case .logout: .logout
        case .acknowledgeNotice: .acknowledgeNotice
        }
    }

    /// The `type` field naming this message.
    public var type: String { kind.name }
}

/// A reply or notice from the server, as carried in one frame.
public struct ServerFrame: Hashable, Sendable {
    /// The id of the request this answers; `nil` for notices the server sends on its own.
    public var id: UInt64?
    /// The reply or notice.
    public var message: ServerMessage

    /// Creates a frame.
    public init(id: UInt64?, message: ServerMessage) {
        self.id = id
        self.message = message
    }
}

/// What the server can say to a client.
public enum ServerMessage: Hashable, Sendable {
    /// Login accepted; `message` is the welcome line; `notices` are the user's exposure notices not yet acknowledged.
    case welcome(message: String, notices: [WireNotice] = [])
    /// A TempID issued to the logged-in user, valid now; with a batch, the TempIDs `following` it, back to back.
    case tempID(TempID, ValidityWindow, following: [IssuedTempID] = [])
    /// An account was created.
    case registered(message: String)
    /// An upload was stored and traced.
    case uploadReceipt(UploadReceipt)
    /// The session has ended.
    case loggedOut
    /// The request failed; `message` is meant for the user.
    case error(WireErrorCode, message: String)
    /// The server is shutting down and will close the connection.
    case goingAway(message: String)
    /// Notice (no `id`): the logged-in user was a close contact of someone who has since tested positive, last on
    /// `lastEncounter`. Never says who.
    case exposureNotice(noticeID: Int64, lastEncounter: Timestamp)
    /// The acknowledgement of a notice was recorded.
    case noticeAcknowledged

    /// The `type` field naming this message.
    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .tempID: "tempid"
        case .registered: "registered"
        case .uploadReceipt: "upload_receipt"
        case .loggedOut: "logged_out"
        case .error: "error"
        case .goingAway: "going_away"
        case .exposureNotice: "exposure_notice"
        case .noticeAcknowledged: "notice_acknowledged"
        }
    }
}

/// The machine-readable reason of an `error` reply.
public enum WireErrorCode: String, Hashable, Sendable, Decodable, CaseIterable {
    /// Wrong password or unknown username.
    case invalidPassword = "invalid_password"
    /// This failure blocked the account.
    case accountBlockedNow = "account_blocked_now"
    /// The account is blocked.
    case accountBlocked = "account_blocked"
    /// The request needs a logged-in session.
    case notLoggedIn = "not_logged_in"
    /// The connection is already logged in.
    case alreadyLoggedIn = "already_logged_in"
    /// Registration refused: the username is taken.
    case usernameTaken = "username_taken"
    /// Registration refused: the username or password breaks the rules (the message says which).
    case registrationRefused = "registration_refused"
    /// The message could not be read (invalid JSON, missing or invalid field).
    case badRequest = "bad_request"
    /// The message type is not one this server knows.
    case unknownType = "unknown_type"
    /// The protocol version is not one this server speaks.
    case unsupportedVersion = "unsupported_version"
    /// The frame is larger than the server accepts.
    case frameTooLarge = "frame_too_large"
    /// An upload holds more entries than the server accepts; nothing was stored.
    case tooManyEntries = "too_many_entries"
    /// The server needs a one-time upload code from a health official with every upload; nothing was stored.
    case uploadCodeRequired = "upload_code_required"
    /// The upload code is wrong, expired, used or void (the message says which and what to do); nothing was stored.
    case uploadCodeRefused = "upload_code_refused"
    /// The server refuses new connections for now (too many, or too fast from one address).
    case serverBusy = "server_busy"
    /// The server's database cannot be reached right now; nothing of the request was stored. Retry shortly.
    case unavailable = "unavailable"
    /// The server speaks TLS only and the client spoke plaintext (sent in plaintext, then the connection closes).
    case tlsRequired = "tls_required"
    /// The server failed; the request may be retried.
    case internalError = "internal_error"
    /// A code this build does not know (sent by a newer server).
    case unknown = "unknown"

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = WireErrorCode(rawValue: raw) ?? .unknown
    }
}

/// Why a frame could not be read as a message.
public struct MessageDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The machine-readable category, as sent back to the peer.
    public var code: WireErrorCode
    /// What was wrong, for the peer's user.
    public var message: String
    /// The request id, when it could be read, so the reply can carry it.
    public var requestID: UInt64?

    /// Creates a decoding error.
    public init(code: WireErrorCode, message: String, requestID: UInt64? = nil) {
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// An exposure notice as carried in a `welcome`: its number (to acknowledge it) and the last encounter.
public struct WireNotice: Hashable, Sendable {
    /// The notice's number.
    public var noticeID: Int64
    /// The last logged encounter with the person who tested positive.
    public var lastEncounter: Timestamp

    /// Creates a notice.
    public init(noticeID: Int64, lastEncounter: Timestamp) {
        self.noticeID = noticeID
        self.lastEncounter = lastEncounter
    }
}
