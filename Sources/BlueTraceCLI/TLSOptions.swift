import ArgumentParser
import BlueTraceTLS
import NIOCore

/// `--tls-cert` and `--tls-key`: TLS on a server's listener (the phone protocol today; the console can take the
/// same group).
struct ServerTLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-cert"),
        help: "Serve the phone protocol over TLS with this PEM certificate (chain); reloaded on SIGHUP.")
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert (owner-only: chmod 600).")
    var key: String?

    @Option(name: .customLong("tls-handshake-timeout"), help: "Seconds a client may take to finish its TLS handshake.")
    var handshakeTimeout: Double = 10

    func validate() throws {
        guard (certificate == nil) == (key == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both, or neither for plaintext.")
        }
        guard handshakeTimeout.isFinite, handshakeTimeout > 0 else {
            throw ValidationError("--tls-handshake-timeout must be more than 0 seconds.")
        }
    }

    /// The identity asked for; `nil`: plaintext.
    var identity: TLSServerIdentity? {
        guard let certificate, let key else { return nil }
        return TLSServerIdentity(certificatePath: certificate, keyPath: key)
    }

    /// The server context, its files read and checked now; `nil`: plaintext.
    func makeContext() throws -> TLSServerContext? {
        let timeout = TimeAmount.milliseconds(Int64((handshakeTimeout * 1000).rounded()))
        return try identity.map { identity throws(TLSSetupError) in
            try TLSServerContext(identity: identity, handshakeTimeout: timeout)
        }
    }
}

/// `--tls` and `--tls-ca`: TLS from a client to the server.
struct ClientTLSOptions: ParsableArguments {
    @Flag(name: .customLong("tls"), help: "Talk to the server over TLS, checking its certificate and host name.")
    var enabled = false

    @Option(
        name: .customLong("tls-ca"),
        help: "Trust the certificate authorities in this PEM file instead of the system's (e.g. certs dev's ca.pem).")
    var certificateAuthority: String?

    func validate() throws {
        if certificateAuthority != nil, !enabled {
            throw ValidationError("--tls-ca needs --tls.")
        }
    }

    /// The client context; `nil`: plaintext.
    func makeContext() throws -> TLSClientContext? {
        guard enabled else { return nil }
        return try TLSClientTrust(certificateAuthorityPath: certificateAuthority).makeContext()
    }
}

/// `bluetrace certs`.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make certificates for trying TLS.",
        subcommands: [CertsDevCommand.self]
    )
}

/// `bluetrace certs dev`.
struct CertsDevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Write a development certificate authority and a server certificate for this machine.",
        discussion: """
            Writes ca.pem (give it to clients: --tls-ca), ca-key.pem, server.pem and server-key.pem (give them to \
            the server: --tls-cert, --tls-key). Keys are owner-only (0600). For development only: anyone holding \
            ca-key.pem can make certificates your clients trust.
            """
    )

    @Option(help: "The directory to write the files to (created if missing).")
    var out = "certs"

    @Option(
        name: .customLong("host"),
        help: "A name or address the server certificate is for (repeatable; default: localhost, 127.0.0.1, ::1).")
    var hosts: [String] = []

    @Option(help: "Days the server certificate is valid.")
    var days = 365

    @Flag(help: "Replace files that are already there.")
    var force = false

    func validate() throws {
        guard days >= 1 else { throw ValidationError("--days must be at least 1.") }
    }

    func run() throws {
        let files = try DevelopmentCertificates.write(
            to: out, hosts: hosts.isEmpty ? DevelopmentCertificates.defaultHosts : hosts, days: days,
            replace: force)
        print(
            """
            Wrote a development certificate authority and a server certificate:
              \(files.certificateAuthority)  the authority (clients: --tls-ca)
              \(files.certificateAuthorityKey)  its key (owner-only; keep it private)
              \(files.serverCertificate)  the server certificate (server: --tls-cert)
              \(files.serverKey)  its key (owner-only; server: --tls-key)
            Try it:
              bluetrace server 5000 60 --tls-cert \(files.serverCertificate) --tls-key \(files.serverKey)
              bluetrace client 127.0.0.1 5000 6000 --tls --tls-ca \(files.certificateAuthority)
            """)
    }
}
