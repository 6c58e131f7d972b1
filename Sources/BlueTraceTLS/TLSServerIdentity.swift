import Foundation
import NIOSSL

/// Where a TLS server's certificate chain and private key live (PEM files); read again on every reload.
///
/// Transport-neutral: the phone protocol's server uses it today, and the HTTP console can make its own
/// `TLSServerContext` from the same identity.
public struct TLSServerIdentity: Sendable, Hashable {
    /// The PEM file of the server's certificate, followed by any intermediates.
    public var certificatePath: String
    /// The PEM file of the server's private key; must be readable by its owner only.
    public var keyPath: String

    /// Creates an identity from its two files.
    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// Reads both files and makes a server context: TLS 1.2 or later (1.3 preferred, as the default maximum), no
    /// client certificates. Refuses a key file that its group or others can read.
    public func makeContext() throws(TLSSetupError) -> NIOSSLContext {
        try Self.requireOwnerOnly(keyPath)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(try Self.read(certificatePath)))
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw .invalidCertificate(path: certificatePath, reason: "\(error)")
        }
        guard !chain.isEmpty else { throw .invalidCertificate(path: certificatePath, reason: "no certificate in it") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(try Self.read(keyPath)), format: .pem)
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw .invalidKey(path: keyPath, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .unusable(certificatePath: certificatePath, keyPath: keyPath, reason: "\(error)")
        }
    }

    /// Throws unless the file at `path` exists and neither its group nor others may read or write it.
    static func requireOwnerOnly(_ path: String) throws(TLSSetupError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = status.st_mode & 0o777
        if mode & 0o077 != 0 { throw .keyReadableByOthers(path: path, mode: String(mode, radix: 8)) }
    }

    static func read(_ path: String) throws(TLSSetupError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file"
            throw .unreadable(path: path, reason: reason)
        }
    }
}
