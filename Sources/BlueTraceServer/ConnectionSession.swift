import BlueTraceDomain
import BlueTraceWire
import Logging

/// The per-connection protocol logic: login first, then the user's requests, answered in order.
///
/// Transport-free: it maps each inbound message to the reply frame, so it can be driven by any transport. The identity
/// of the session is the user who logged in on it; no request can name another user.
struct ConnectionSession {
    /// What the transport should do after sending the reply.
    enum Next {
        case keepOpen
        case close
    }

    private let authority: HealthAuthority
    private let maximumUploadEntries: Int
    private let logger: Logger
    private(set) var user: String?

    init(authority: HealthAuthority, maximumUploadEntries: Int, logger: Logger) {
        self.authority = authority
        self.maximumUploadEntries = maximumUploadEntries
        self.logger = logger
    }

    /// Answers one inbound item.
    mutating func handle(_ inbound: Inbound<ClientFrame>) async -> (ServerFrame, Next) {
        switch inbound {
        case .malformed(let error):
            logger.debug("malformed message", metadata: ["error": "\(error)"])
            return (ServerFrame(id: error.requestID, message: .error(error.code, message: error.message)), .keepOpen)
        case .message(let frame):
            let (reply, next) = await handle(frame.message)
            return (ServerFrame(id: frame.id, message: reply), next)
        }
    }

    private mutating func handle(_ message: ClientMessage) async -> (ServerMessage, Next) {
        do {
            return try await handleOrThrow(message)
        } catch {
            logger.error("request failed", metadata: ["type": "\(message.type)", "error": "\(error)"])
            return (.error(.internalError, message: "The server could not complete the request; try again."), .keepOpen)
        }
    }

    private mutating func handleOrThrow(_ message: ClientMessage) async throws -> (ServerMessage, Next) {
        switch message {
        case .login(let username, let password):
            if let user {
                return (.error(.alreadyLoggedIn, message: "Already logged in as \(user)."), .keepOpen)
            }
            switch try await authority.login(username: username, password: password) {
            case .accepted:
                user = username
                return (.welcome(message: ServerText.welcome), .keepOpen)
            case .rejected:
                return (.error(.invalidPassword, message: ServerText.invalidPassword), .keepOpen)
            case .blockedNow:
                return (.error(.accountBlockedNow, message: ServerText.blockedNow), .keepOpen)
            case .blocked:
                return (.error(.accountBlocked, message: ServerText.blocked), .keepOpen)
            }
        case .register(let username, let password):
            switch try await authority.register(username: username, password: password) {
            case .created:
                return (.registered(message: "Account \(username) created."), .keepOpen)
            case .taken:
                return (
                    .error(.usernameTaken, message: "The username \(username) is taken; log in, or choose another."),
                    .keepOpen
                )
            case .refused(let problem):
                return (.error(.registrationRefused, message: problem), .keepOpen)
            }
        case .downloadTempID, .uploadContactLog, .logout:
            guard let user else {
                return (.error(.notLoggedIn, message: "Please log in first: send a login message."), .keepOpen)
            }
            return try await handleAuthenticated(message, user: user)
        }
    }

    private mutating func handleAuthenticated(
        _ message: ClientMessage, user: String
    ) async throws
        -> (ServerMessage, Next)
    {
        switch message {
        case .downloadTempID:
            let grants = try await authority.issueTempIDs(to: user)
            let following = grants.dropFirst().map { IssuedTempID(tempID: $0.tempID, validity: $0.validity) }
            return (.tempID(grants[0].tempID, grants[0].validity, following: following), .keepOpen)
        case .uploadContactLog(let entries):
            guard entries.count <= maximumUploadEntries else {
                return (
                    .error(
                        .tooManyEntries,
                        message: "An upload may hold at most \(maximumUploadEntries) entries; this one has "
                            + "\(entries.count). Nothing was stored: split it and upload again."),
                    .keepOpen
                )
            }
            let receipt = try await authority.traceUpload(from: user, entries: entries)
            return (.uploadReceipt(receipt), .keepOpen)
        case .logout:
            authority.logout(user)
            self.user = nil
            return (.loggedOut, .close)
        case .login, .register:
            preconditionFailure("login and register are handled before authentication")
        }
    }
}

/// The server's user-facing sentences, exactly as the assignment prints them.
public enum ServerText {
    /// Sent when a login succeeds.
    public static let welcome = "Welcome to the BlueTrace Simulator!"
    /// Sent for a wrong password or unknown username.
    public static let invalidPassword = "Invalid Password. Please try again"
    /// Sent when this failure blocks the account.
    public static let blockedNow = "Invalid Password. Your account has been blocked. Please try again later"
    /// Sent for any attempt while the account is blocked.
    public static let blocked = "Your account is blocked due to multiple login failures. Please try again later"
    /// Sent to every connected client when the server shuts down.
    public static let goingAway = "The server is shutting down."
}
