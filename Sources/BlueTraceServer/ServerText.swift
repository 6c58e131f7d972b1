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
    /// Sent for an upload without a code to a server that requires one (not the assignment's: `--require-upload-code`).
    public static let uploadCodeRequired =
        "This server needs a one-time upload code from a health official with every upload. Ask them for one, then "
        + "upload again. Nothing was stored."
    /// Sent when the database cannot be reached (not the assignment's: only a PostgreSQL store goes away).
    public static let unavailable =
        "The health authority's database is unavailable right now; nothing of this request was stored. Try again in a "
        + "moment."
    /// Sent, in plaintext, to a client that speaks plaintext to a server started with TLS (not the assignment's).
    public static let tlsRequired =
        "This server requires TLS: run the client with --tls (and --tls-ca FILE when its certificate comes from a "
        + "private authority, such as bluetrace certs dev's ca.pem)."
}
