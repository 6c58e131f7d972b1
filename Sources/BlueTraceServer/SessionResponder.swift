import BlueTraceWire

/// What answers the requests of one connection: the health authority (`AuthorityResponder`), or the bench's stub.
///
/// Transport-free, so any transport can drive it; `SessionHandler` drives it on a connection's event loop.
public protocol SessionResponder: Sendable {
    /// Answers `message`, sent on a connection logged in as `user` (`nil`: not logged in). Calls `reply` exactly
    /// once, at once or later, from any thread.
    func respond(to message: ClientMessage, from user: String?, reply: @escaping @Sendable (SessionReply) -> Void)
}

/// The answer to one request, and what it changes for the connection.
public struct SessionReply: Sendable {
    /// What the request does to the connection once answered.
    public enum Change: Sendable, Equatable {
        /// Nothing.
        case none
        /// The connection is now logged in as this user.
        case loggedIn(String)
        /// The session is over: close the connection after this reply.
        case close
    }

    /// The reply.
    public var message: ServerMessage
    /// What it changes.
    public var change: Change

    /// Creates a reply.
    public init(_ message: ServerMessage, change: Change = .none) {
        self.message = message
        self.change = change
    }
}
