import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceStore
import BlueTraceWire
import Logging
import Synchronization

/// The protocol's rules for one connection over the health authority: login first, then the user's requests.
///
/// Translates between wire and domain: the authority takes and returns domain values. The identity of a session is
/// the user who logged in on it; no request can name another user. TempID downloads are answered from the
/// authority's completion, without a task; logins, registrations and uploads run as tasks (they hash passwords or
/// trace whole contact logs).
public struct AuthorityResponder: SessionResponder {
    private let authority: HealthAuthority
    private let maximumUploadEntries: Int
    private let logger: Logger

    /// Answers for `authority`, refusing uploads of more than `maximumUploadEntries` entries.
    public init(authority: HealthAuthority, maximumUploadEntries: Int, logger: Logger) {
        self.authority = authority
        self.maximumUploadEntries = maximumUploadEntries
        self.logger = logger
    }

    public func respond(
        to message: ClientMessage, from user: String?, reply: @escaping @Sendable (SessionReply) -> Void
    ) {
        switch message {
        case .login(let username, let password):
            if let user {
                return reply(SessionReply(.error(.alreadyLoggedIn, message: "Already logged in as \(user).")))
            }
            run(message.type, reply) { authority in
                switch try await authority.login(username: username, password: password) {
                case .accepted:
                    SessionReply(
                        .welcome(
                            message: ServerText.welcome,
                            notices: try await authority.pendingNotices(for: username).map {
                                WireNotice(noticeID: $0.id, lastEncounter: $0.lastEncounter)
                            }),
                        change: .loggedIn(username))
                case .rejected: SessionReply(.error(.invalidPassword, message: ServerText.invalidPassword))
                case .blockedNow: SessionReply(.error(.accountBlockedNow, message: ServerText.blockedNow))
                case .blocked: SessionReply(.error(.accountBlocked, message: ServerText.blocked))
                }
            }
        case .register(let username, let password):
            run(message.type, reply) { authority in
                switch try await authority.register(username: username, password: password) {
                case .created: SessionReply(.registered(message: "Account \(username) created."))
                case .taken:
                    SessionReply(
                        .error(.usernameTaken, message: "The username \(username) is taken; log in, or choose another.")
                    )
                case .refused(let problem): SessionReply(.error(.registrationRefused, message: problem))
                }
            }
        case .downloadTempID, .uploadContactLog, .logout, .acknowledgeNotice:
            guard let user else {
                return reply(SessionReply(.error(.notLoggedIn, message: "Please log in first: send a login message.")))
            }
            respondAuthenticated(to: message, from: user, reply: reply)
        }
    }

    private func respondAuthenticated(
        to message: ClientMessage, from user: String, reply: @escaping @Sendable (SessionReply) -> Void
    ) {
        switch message {
        case .downloadTempID:
            authority.issueTempIDs(to: user) { [logger] result in
                switch result {
                case .success(let grants):
                    let following = grants.dropFirst().map(\.issued)
                    reply(SessionReply(.tempID(grants[0].tempID, grants[0].validity, following: following)))
                case .failure(let error):
                    reply(Self.failed(message.type, error, logger))
                }
            }
        case .uploadContactLog(let entries, let code):
            guard entries.count <= maximumUploadEntries else {
                return reply(
                    SessionReply(
                        .error(
                            .tooManyEntries,
                            message: "An upload may hold at most \(maximumUploadEntries) entries; this one has "
                                + "\(entries.count). Nothing was stored: split it and upload again.")))
            }
            // Once a large upload is answered and let go, the memory it freed is given back to the system.
            let releasing = entries.count >= Self.uploadEntriesReleasingMemory
            run(message.type, reply, thenReleasingMemory: releasing) { authority in
                if authority.requiresUploadCode {
                    // A client that does not know codes learns it needs one; ours then asks its user and sends again.
                    guard let code else {
                        return SessionReply(.error(.uploadCodeRequired, message: ServerText.uploadCodeRequired))
                    }
                    let decision = try await authority.redeemUploadCode(code, for: user)
                    guard decision.isAccepted else {
                        return SessionReply(.error(.uploadCodeRefused, message: decision.explanation))
                    }
                }
                return SessionReply(.uploadReceipt(try await authority.traceUpload(from: user, entries: entries)))
            }
        case .acknowledgeNotice(let noticeID):
            run(message.type, reply) { authority in
                guard try await authority.acknowledgeNotice(noticeID, by: user) else {
                    return SessionReply(
                        .error(.badRequest, message: "There is no pending notice \(noticeID) for \(user)."))
                }
                return SessionReply(.noticeAcknowledged)
            }
        case .logout:
            authority.logout(user)
            reply(SessionReply(.loggedOut, change: .close))
        case .login, .register:
            preconditionFailure("login and register are answered before authentication")
        }
    }

    /// Uploads of at least this many entries are followed by `MallocTuning.releaseFreedMemory`.
    static let uploadEntriesReleasingMemory = 65_536

    /// Runs `work` (for a message of `type`) as a task and replies with what it returns, or with an internal error
    /// when it throws; with `releasingMemory`, then lets `work` go (and all it holds, a whole upload) and gives the
    /// memory freed back to the system.
    private func run(
        _ type: String, _ reply: @escaping @Sendable (SessionReply) -> Void,
        thenReleasingMemory releasingMemory: Bool = false,
        _ work: @escaping @Sendable (HealthAuthority) async throws -> SessionReply
    ) {
        // Held in a box that the task empties, so that the work (and what it captured) is gone before memory is
        // released, not when the task's closure is.
        let box = Mutex<(@Sendable (HealthAuthority) async throws -> SessionReply)?>(work)
        Task { [authority, logger] in
            reply(await Self.perform(box.withLock { $0.take() }!, type, authority, logger))
            if releasingMemory {
                let started = ContinuousClock.now
                MallocTuning.releaseFreedMemory()
                logger.debug("freed memory given back", metadata: ["took": "\(ContinuousClock.now - started)"])
            }
        }
    }

    /// What `work` answers, or the reply to its error.
    private static func perform(
        _ work: @Sendable (HealthAuthority) async throws -> SessionReply, _ type: String, _ authority: HealthAuthority,
        _ logger: Logger
    ) async -> SessionReply {
        do {
            return try await work(authority)
        } catch {
            return failed(type, error, logger)
        }
    }

    private static func failed(_ type: String, _ error: any Error, _ logger: Logger) -> SessionReply {
        if case StoreError.unavailable(let reason) = error {
            logger.warning("database unavailable", metadata: ["type": "\(type)", "reason": "\(reason)"])
            return SessionReply(.error(.unavailable, message: ServerText.unavailable))
        }
        logger.error("request failed", metadata: ["type": "\(type)", "error": "\(error)"])
        return SessionReply(.error(.internalError, message: "The server could not complete the request; try again."))
    }
}
