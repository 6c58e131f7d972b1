import BlueTraceDomain
import BlueTraceWire

/// Everything `bluetrace server` can be told.
public struct ServerConfiguration: Sendable {
    /// The address to listen on.
    public var host: String
    /// The TCP port; 0 picks a free one (tests learn it from the listening callback).
    public var port: Int
    /// Seconds a username stays blocked after three failed logins.
    public var blockDuration: Int64
    /// Seconds a TempID is valid.
    public var tempIDLifetime: Int64
    /// Path of credentials.txt.
    public var credentialsPath: String
    /// Path of tempIDs.txt.
    public var tempIDsPath: String
    /// The largest frame accepted, in bytes.
    public var maximumFrameSize: Int
    /// The zone in which times are printed and written to tempIDs.txt.
    public var timeFormat: TimestampFormat

    /// Creates a configuration with the assignment's defaults.
    public init(
        host: String = "0.0.0.0",
        port: Int,
        blockDuration: Int64,
        tempIDLifetime: Int64 = TempIDPolicy.standardLifetime,
        credentialsPath: String = "credentials.txt",
        tempIDsPath: String = "tempIDs.txt",
        maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        timeFormat: TimestampFormat = TimestampFormat()
    ) {
        self.host = host
        self.port = port
        self.blockDuration = blockDuration
        self.tempIDLifetime = tempIDLifetime
        self.credentialsPath = credentialsPath
        self.tempIDsPath = tempIDsPath
        self.maximumFrameSize = maximumFrameSize
        self.timeFormat = timeFormat
    }
}

/// Why the server could not start; each case says what to do.
public enum ServerStartupError: Error, CustomStringConvertible {
    /// credentials.txt could not be read.
    case credentialsUnreadable(path: String, reason: String)
    /// credentials.txt holds no usable account.
    case noAccounts(path: String)
    /// tempIDs.txt exists but could not be read or opened for appending.
    case tempIDsUnusable(path: String, reason: String)

    public var description: String {
        switch self {
        case .credentialsUnreadable(let path, let reason):
            "cannot read the credentials file \(path): \(reason). Create it with one `username password` per line, "
                + "or pass --credentials PATH."
        case .noAccounts(let path):
            "the credentials file \(path) holds no valid `username password` line; add at least one account."
        case .tempIDsUnusable(let path, let reason):
            "cannot use the TempID file \(path): \(reason). Check its permissions, or pass --tempids PATH."
        }
    }
}
