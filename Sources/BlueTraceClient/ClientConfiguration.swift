import BlueTraceDomain
import BlueTraceTLS

/// Everything `bluetrace client` can be told.
public struct ClientConfiguration: Sendable {
    /// The server's address.
    public var serverHost: String
    /// The server's TCP port.
    public var serverPort: Int
    /// The UDP port this phone listens on for beacons; 0 picks a free one.
    public var udpPort: Int
    /// The address the UDP socket binds to.
    public var udpHost: String
    /// Seconds a received beacon stays in the contact log.
    public var contactRetention: Int64
    /// The directory holding `<username>_contactlog.txt`.
    public var logDirectory: String
    /// The zone in which times are printed and written.
    public var timeFormat: TimestampFormat
    /// Whether to create an account before logging in.
    public var register: Bool
    /// TLS to the server; `nil`: plaintext (the assignment's).
    public var tls: TLSClientContext?

    /// Creates a configuration with the assignment's defaults.
    public init(
        serverHost: String,
        serverPort: Int,
        udpPort: Int,
        udpHost: String = "0.0.0.0",
        contactRetention: Int64 = RetentionPolicy.assignmentRetention,
        logDirectory: String = ".",
        timeFormat: TimestampFormat = TimestampFormat(),
        register: Bool = false,
        tls: TLSClientContext? = nil
    ) {
        self.tls = tls
        self.serverHost = serverHost
        self.serverPort = serverPort
        self.udpPort = udpPort
        self.udpHost = udpHost
        self.contactRetention = contactRetention
        self.logDirectory = logDirectory
        self.timeFormat = timeFormat
        self.register = register
    }
}

/// How a client run ended; the command line turns it into the exit status.
public enum ClientOutcome: Hashable, Sendable {
    /// The user logged out.
    case loggedOut
    /// Input ended after login; the client logged out for the user.
    case endOfInput
    /// Input ended before a successful login.
    case endOfInputBeforeLogin
    /// The server refused the login for good (third failure, or the account is blocked).
    case loginRefused
    /// The connection to the server dropped.
    case connectionLost
    /// The server announced it was shutting down.
    case serverWentAway

    /// The process exit status for this outcome: 0 only for a clean end of session.
    public var exitStatus: Int32 {
        switch self {
        case .loggedOut, .endOfInput: 0
        case .endOfInputBeforeLogin, .loginRefused, .connectionLost, .serverWentAway: 1
        }
    }
}

/// Why the client could not start; each case says what to do.
public enum ClientStartupError: Error, CustomStringConvertible {
    /// The server did not accept a connection.
    case serverUnreachable(host: String, port: Int, reason: String)
    /// The UDP port could not be bound.
    case udpPortUnavailable(host: String, port: Int, reason: String)
    /// The server was reached, and the TLS handshake with it failed (`reason` says why and what to do).
    case tlsFailed(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .serverUnreachable(let host, let port, let reason):
            "Cannot reach the server at \(host):\(port) (\(reason)). Is it running? Check the address and port."
        case .tlsFailed(let host, let port, let reason):
            "No TLS with the server at \(host):\(port): \(reason)."
        case .udpPortUnavailable(let host, let port, let reason):
            "Cannot listen for beacons on UDP \(host):\(port) (\(reason)). Is another client using it? "
                + "Choose another client_udp_port."
        }
    }
}
