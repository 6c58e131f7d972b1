import Crypto
import Foundation
import SwiftASN1
import X509

/// A local certificate authority, for development and tests: it signs server certificates for the names and
/// addresses given, valid for the times given (an expired one or one for the wrong host, in tests).
public struct CertificateAuthority: Sendable {
    /// The authority's self-signed certificate: what clients trust (`--tls-ca`).
    public let certificate: Certificate
    /// Its signing key.
    public let key: P256.Signing.PrivateKey

    /// Makes a new authority named `name`, valid from `notValidBefore` to `notValidAfter`.
    public static func generate(
        name: String = "BlueTrace development CA", notValidBefore: Date, notValidAfter: Date
    ) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: notValidBefore,
            notValidAfter: notValidAfter, issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return CertificateAuthority(certificate: certificate, key: key)
    }

    /// Signs a server certificate for `hosts` (DNS names, or IPv4/IPv6 addresses), valid from `notValidBefore`
    /// to `notValidAfter`, with a new key.
    public func issueServerCertificate(
        hosts: [String], notValidBefore: Date, notValidAfter: Date
    ) throws -> (certificate: Certificate, key: P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let names: [GeneralName] = hosts.map { host in
            if let address = ipAddressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: address[...])) }
            return .dnsName(host)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: notValidBefore,
            notValidAfter: notValidAfter, issuer: self.certificate.subject,
            subject: try DistinguishedName { CommonName(hosts.first ?? "server") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(
                    keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key))
        return (certificate, key)
    }
}

/// The files of `bluetrace certs dev`: a development authority and a server certificate signed by it.
public struct DevelopmentCertificates: Sendable {
    /// The names and addresses the development server certificate is for.
    public static let defaultHosts = ["localhost", "127.0.0.1", "::1"]

    /// Where the files went.
    public struct Files: Sendable, Hashable {
        /// The authority's certificate, for clients (`--tls-ca`).
        public var certificateAuthority: String
        /// The authority's key (owner-only), to sign more certificates.
        public var certificateAuthorityKey: String
        /// The server's certificate (`--tls-cert`).
        public var serverCertificate: String
        /// The server's key (owner-only; `--tls-key`).
        public var serverKey: String

        /// The four files in `directory`.
        public init(directory: String) {
            let base = URL(fileURLWithPath: directory)
            certificateAuthority = base.appendingPathComponent("ca.pem").path
            certificateAuthorityKey = base.appendingPathComponent("ca-key.pem").path
            serverCertificate = base.appendingPathComponent("server.pem").path
            serverKey = base.appendingPathComponent("server-key.pem").path
        }

        /// All four paths.
        public var all: [String] { [certificateAuthority, certificateAuthorityKey, serverCertificate, serverKey] }
    }

    /// Writes a new authority (valid 10 years) and a server certificate for `hosts` (valid `days`) into
    /// `directory`, creating it owner-only (0700); every file is written owner-only (0600): the keys must be, and a
    /// development authority is this user's alone. Refuses to replace existing files unless `replace`.
    @discardableResult
    public static func write(
        to directory: String, hosts: [String] = defaultHosts, days: Int = 365, now: Date = Date(),
        replace: Bool = false
    ) throws -> Files {
        let files = Files(directory: directory)
        if !replace, let existing = files.all.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw CertificateWriteError.exists(path: existing)
        }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CertificateWriteError.cannotWrite(path: directory, reason: error.localizedDescription)
        }
        let start = now.addingTimeInterval(-300)
        let authority = try CertificateAuthority.generate(
            notValidBefore: start, notValidAfter: now.addingTimeInterval(10 * 365 * 86_400))
        let server = try authority.issueServerCertificate(
            hosts: hosts, notValidBefore: start, notValidAfter: now.addingTimeInterval(Double(days) * 86_400))
        try writeFile(files.certificateAuthorityKey, authority.key.pemRepresentation, mode: 0o600)
        try writeFile(files.serverKey, server.key.pemRepresentation, mode: 0o600)
        try writeFile(files.certificateAuthority, try authority.certificate.serializeAsPEM().pemString, mode: 0o600)
        try writeFile(files.serverCertificate, try server.certificate.serializeAsPEM().pemString, mode: 0o600)
        return files
    }

    /// Writes `text` to `path` with exactly `mode` (the file is created with it, never wider, and set to it if it
    /// existed).
    public static func writeFile(_ path: String, _ text: String, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw CertificateWriteError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, mode) == 0 else {
            throw CertificateWriteError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        let bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw CertificateWriteError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            written += result
        }
    }
}

/// The development certificates could not be written.
public enum CertificateWriteError: Error, CustomStringConvertible {
    /// A file is already there (clients may trust its authority).
    case exists(path: String)
    /// The file or directory could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .exists(let path):
            "\(path) already exists: clients may already trust its authority. Use --out for another directory, "
                + "or --force to replace the files."
        case .cannotWrite(let path, let reason): "Cannot write \(path): \(reason)."
        }
    }
}

/// The bytes of an IPv4 or IPv6 address written as text; nil for a host name.
func ipAddressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
    return nil
}
