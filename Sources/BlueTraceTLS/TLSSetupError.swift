/// Why TLS could not be set up from the given files; each case says what to do.
public enum TLSSetupError: Error, CustomStringConvertible, Equatable {
    /// The private key file can be read by its group or by others.
    case keyReadableByOthers(path: String, mode: String)
    /// A file could not be read (missing, or no permission).
    case unreadable(path: String, reason: String)
    /// The file is not a PEM certificate (chain) that TLS can use.
    case invalidCertificate(path: String, reason: String)
    /// The file is not a PEM private key that TLS can use.
    case invalidKey(path: String, reason: String)
    /// The certificate and the key do not belong together, or TLS refused them for another reason.
    case unusable(certificatePath: String, keyPath: String, reason: String)

    public var description: String {
        switch self {
        case .keyReadableByOthers(let path, let mode):
            "The TLS private key \(path) can be read by other users (mode \(mode)); anyone who reads it can "
                + "impersonate this server. Make it owner-only: chmod 600 \(path)"
        case .unreadable(let path, let reason):
            "Cannot read \(path): \(reason). Check the path (bluetrace certs dev writes a development certificate "
                + "and key)."
        case .invalidCertificate(let path, let reason):
            "\(path) is not a PEM certificate: \(reason). Give --tls-cert the server's certificate (chain) in PEM."
        case .invalidKey(let path, let reason):
            "\(path) is not a PEM private key: \(reason). Give --tls-key the server's private key in PEM."
        case .unusable(let certificatePath, let keyPath, let reason):
            "TLS cannot use the certificate \(certificatePath) with the key \(keyPath): \(reason). Check that the key "
                + "is the certificate's."
        }
    }
}
