import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceTLS

/// How the operations surface (`/metrics`, `/health`, `/ready`, the console) is served.
public struct OperationsConfiguration: Sendable {
    /// The address to listen on: loopback unless told otherwise.
    public var host: String
    /// The HTTP port (0: any free port).
    public var port: Int
    /// Mark the session cookie `Secure` (set when the console is reached over TLS; a request forwarded with
    /// `X-Forwarded-Proto: https` gets it too).
    public var secureCookies: Bool
    /// Seconds a console session lasts from its login.
    public var sessionLifetime: Int64
    /// The console's lockout: failed logins in a row, and how long the account stays locked.
    public var loginPolicy: LoginPolicy
    /// Rows per page of the cases and the audit trail.
    public var pageSize: Int
    /// The scrypt cost officials' hashes have (`bluetrace officials add`'s default): a login with an unknown name is
    /// checked against a hash of this cost, so the time it takes does not tell whether the name exists.
    public var officialPasswordParameters: PasswordHasher.Parameters
    /// Serve the console over TLS with this certificate (the phone protocol's, so one SIGHUP reloads both); its
    /// session cookie is then `Secure`. `nil`: plain HTTP.
    public var tls: TLSServerContext?

    /// Creates a configuration; by default plain HTTP on loopback, sessions of 30 minutes, 5 failures lock an official out for
    /// 15 minutes, 20 rows a page.
    public init(
        host: String = "127.0.0.1", port: Int, secureCookies: Bool = false, sessionLifetime: Int64 = 1800,
        loginPolicy: LoginPolicy = LoginPolicy(maximumFailures: 5, blockDuration: 900), pageSize: Int = 20,
        tls: TLSServerContext? = nil, officialPasswordParameters: PasswordHasher.Parameters = .standard
    ) {
        self.host = host
        self.port = port
        self.secureCookies = secureCookies
        self.sessionLifetime = sessionLifetime
        self.loginPolicy = loginPolicy
        self.pageSize = pageSize
        self.tls = tls
        self.officialPasswordParameters = officialPasswordParameters
    }
}
