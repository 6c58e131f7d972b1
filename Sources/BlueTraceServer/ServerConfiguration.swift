import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceTLS
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
    /// Path of credentials.txt (imported at start; optional once accounts are in the database); `nil`: none.
    public var credentialsPath: String?
    /// Path of tempIDs.txt (imported at start; every issued TempID is appended); `nil`: none (simulations).
    public var tempIDsPath: String?
    /// Path of the SQLite database; `nil` or `:memory:` keeps everything in memory (tests, simulations, benchmarks).
    public var databasePath: String?
    /// How TempIDs are made.
    public var tempIDScheme: TempIDScheme
    /// Path of the server key file (sealed TempIDs); `nil`: `keyRing`, or a fresh key kept in memory only.
    public var keyFilePath: String?
    /// The server's keys given in memory, when there is no key file (a simulator that seals TempIDs with the
    /// server's keys); `nil`: a fresh ring.
    public var keyRing: KeyRing?
    /// How many TempIDs one download returns in the sealed scheme (back to back; OpenTrace issues 100).
    public var sealedBatchSize: Int
    /// Days uploads, encounters and TempID mappings are kept (BlueTrace: 21).
    public var retentionDays: Int
    /// The scrypt cost of new password hashes.
    public var passwordParameters: PasswordHasher.Parameters
    /// The largest frame accepted, in bytes.
    public var maximumFrameSize: Int
    /// Limits on connections, logins, idle sessions and uploads.
    public var limits: ConnectionLimits
    /// The zone in which times are printed and written to tempIDs.txt.
    public var timeFormat: TimestampFormat
    /// Whether one-time upload codes can be issued and whether an upload needs one.
    public var uploadCodes: UploadCodeUse
    /// The rule by which close contacts of a traced upload get exposure notices; `nil`: no notices (the assignment).
    public var exposureNotices: CloseContactRule?
    /// TLS for the phone protocol, its certificate reloadable; `nil`: plaintext (the assignment's).
    public var tls: TLSServerContext?

    /// Creates a configuration with the defaults of `bluetrace server`.
    public init(
        host: String = "0.0.0.0",
        port: Int,
        blockDuration: Int64,
        tempIDLifetime: Int64 = TempIDPolicy.standardLifetime,
        credentialsPath: String? = "credentials.txt",
        tempIDsPath: String? = "tempIDs.txt",
        databasePath: String? = "bluetrace.sqlite",
        tempIDScheme: TempIDScheme = .decimal,
        keyFilePath: String? = "bluetrace-keys.json",
        sealedBatchSize: Int = 100,
        retentionDays: Int = 21,
        passwordParameters: PasswordHasher.Parameters = .standard,
        maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        limits: ConnectionLimits = ConnectionLimits(),
        timeFormat: TimestampFormat = TimestampFormat(),
        uploadCodes: UploadCodeUse = .off,
        exposureNotices: CloseContactRule? = nil,
        tls: TLSServerContext? = nil,
        keyRing: KeyRing? = nil
    ) {
        self.tls = tls
        self.keyRing = keyRing
        self.uploadCodes = uploadCodes
        self.exposureNotices = exposureNotices
        self.host = host
        self.port = port
        self.blockDuration = blockDuration
        self.tempIDLifetime = tempIDLifetime
        self.credentialsPath = credentialsPath
        self.tempIDsPath = tempIDsPath
        self.databasePath = databasePath
        self.tempIDScheme = tempIDScheme
        self.keyFilePath = keyFilePath
        self.sealedBatchSize = sealedBatchSize
        self.retentionDays = retentionDays
        self.passwordParameters = passwordParameters
        self.maximumFrameSize = maximumFrameSize
        self.limits = limits
        self.timeFormat = timeFormat
    }
}

/// How a health authority uses one-time upload codes.
public enum UploadCodeUse: Sendable, Hashable {
    /// No codes: any logged-in phone may upload (the assignment's behaviour).
    case off
    /// Codes can be issued (`bluetrace authority issue-code`), and uploads do not need them.
    case available
    /// Every upload needs a valid code (`bluetrace server --require-upload-code`).
    case required
}
