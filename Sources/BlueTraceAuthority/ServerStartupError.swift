/// Why the server could not start; each case says what to do.
public enum ServerStartupError: Error, CustomStringConvertible {
    /// credentials.txt could not be read.
    case credentialsUnreadable(path: String, reason: String)
    /// tempIDs.txt exists but could not be read or opened for appending.
    case tempIDsUnusable(path: String, reason: String)

    public var description: String {
        switch self {
        case .credentialsUnreadable(let path, let reason):
            "cannot read the credentials file \(path): \(reason). Check its permissions, or pass --credentials PATH."
        case .tempIDsUnusable(let path, let reason):
            "cannot use the TempID file \(path): \(reason). Check its permissions, or pass --tempids PATH."
        }
    }
}
