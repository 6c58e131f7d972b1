import Foundation
import NIOSSL

/// Failed TLS handshakes, said in words that tell a person what to do: one function for the server's log, one for
/// the client's message.
public enum TLSFailure {
    /// What a failed handshake means, seen from the server.
    public static func serverSide(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("UNKNOWN_CA") {
            return "the client does not trust the authority that signed this server's certificate (it needs "
                + "--tls-ca with that authority's certificate)"
        }
        if text.contains("CERTIFICATE_EXPIRED") {
            return "the client says this server's certificate has expired: renew it, then send the server SIGHUP"
        }
        if text.contains("BAD_CERTIFICATE") || text.contains("CERTIFICATE_UNKNOWN") {
            return "the client refused this server's certificate: it is expired, for another name than the one the "
                + "client connects to, or from an authority the client does not trust (the client's message says "
                + "which; a development authority is given to clients with --tls-ca)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") {
            return "the client does not speak TLS (it needs --tls)"
        }
        if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("NO_SHARED_CIPHER") {
            return "the client offers no TLS version or cipher this server accepts (TLS 1.2 or later)"
        }
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            return "the client closed the connection during the handshake (its own message says why)"
        }
        return text
    }

    /// What a failed handshake means, seen from a client that connected to `host`; `diagnosis` is what the
    /// certificate check found, when it ran.
    public static func clientSide(_ error: any Error, host: String, diagnosis: String?) -> String {
        let text = "\(error)"
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the server's certificate is not issued for \(host): connect with a name the certificate "
                + "holds, or give the server a certificate for \(host)"
        }
        if let diagnosis { return diagnosis }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate could not be verified" + TLSClientTrust.verificationHint
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "the server did not answer in TLS: it runs without --tls-cert, so connect without --tls"
        }
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            return "the server closed the connection during the TLS handshake: it may run without --tls-cert "
                + "(then connect without --tls); its log says why"
        }
        if text.contains("EOF during handshake") || error is ChannelClosedDuringHandshake {
            return "the server closed the connection during the TLS handshake: it may run without --tls-cert "
                + "(then connect without --tls); its log says why"
        }
        if error is HandshakeTimedOut {
            return "the server did not finish a TLS handshake in time: is it a TLS server (--tls-cert)?"
        }
        return "the TLS handshake failed: \(text)"
    }
}

/// The connection closed before the TLS handshake finished.
struct ChannelClosedDuringHandshake: Error {}

/// The TLS handshake did not finish in time.
struct HandshakeTimedOut: Error {}
