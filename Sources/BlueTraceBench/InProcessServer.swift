import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceTLS
import BlueTraceWire
import Foundation
import Logging
import NIOCore

/// How `--spawn` sets up the server it starts inside the bench process.
public struct SpawnOptions: Sendable {
    /// Where the spawned server keeps its database.
    public enum Database: String, CaseIterable, Sendable {
        /// An in-memory SQLite database: no disk in the way.
        case memory
        /// A SQLite file in the run's temporary directory (WAL, as `bluetrace server` uses).
        case file
    }

    /// Where the database lives.
    public var database: Database
    /// The scrypt cost (log2 of the rounds) of the test users' password hashes; 10 keeps registrations and logins
    /// cheap, 15 is the server's default.
    public var passwordCost: Int
    /// The largest frame the server accepts (raised to fit the run's uploads).
    public var maximumFrameSize: Int
    /// How the server makes TempIDs.
    public var tempIDScheme: TempIDScheme
    /// Whether to start the protocol stub (`StubResponder`, canned replies) instead of the real server.
    public var stub: Bool
    /// Whether the server and the clients speak TLS (with a development certificate made for the run).
    public var tls: Bool

    /// Creates options; the defaults are those of `bluetrace bench --spawn`.
    public init(
        database: Database = .file,
        passwordCost: Int = 10,
        maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        tempIDScheme: TempIDScheme = .decimal,
        stub: Bool = false,
        tls: Bool = false
    ) {
        self.tls = tls
        self.database = database
        self.passwordCost = passwordCost
        self.maximumFrameSize = maximumFrameSize
        self.tempIDScheme = tempIDScheme
        self.stub = stub
    }

    var passwordParameters: PasswordHasher.Parameters {
        var parameters = PasswordHasher.Parameters.standard
        parameters.logRounds = passwordCost
        return parameters
    }
}

/// The address a spawned server listens on, and the clients' TLS when it speaks TLS.
struct ListeningAddress: Sendable {
    var host = "127.0.0.1"
    var port: Int
    var tls: TLSClientContext?
}

/// Starts a `BlueTraceServer` in this process on a loopback port the OS picks, with its files in a temporary
/// directory, runs `body` against it, then stops it and removes the directory.
enum InProcessServer {
    /// The server's default limits, but for new connections per address: every bench connection comes from
    /// 127.0.0.1, and the login scenario opens hundreds a second.
    static var limits: ConnectionLimits {
        var limits = ConnectionLimits()
        limits.connectionsPerSecondPerAddress = 1_000_000
        return limits
    }

    static func run<Result: Sendable>(
        options: SpawnOptions,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup,
        _ body: @Sendable (ListeningAddress) async throws -> Result
    ) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bluetrace-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var serverTLS: TLSServerContext?
        var clientTLS: TLSClientContext?
        if options.tls {
            let files = try DevelopmentCertificates.write(to: "\(directory)/certs")
            serverTLS = try TLSServerContext(
                identity: TLSServerIdentity(certificatePath: files.serverCertificate, keyPath: files.serverKey))
            clientTLS = try TLSClientTrust(certificateAuthorityPath: files.certificateAuthority).makeContext()
        }
        let tls = clientTLS
        if options.stub {
            let stub = try await LocalServer.start(
                configuration: ServerConfiguration(
                    host: "127.0.0.1", port: 0, blockDuration: 60, maximumFrameSize: options.maximumFrameSize,
                    limits: Self.limits, tls: serverTLS),
                responder: StubResponder(), logger: logger, eventLoopGroup: eventLoopGroup)
            return try await LocalServer.whileServing(stub) {
                try await body(ListeningAddress(port: $0.port, tls: tls))
            }
        }
        guard options.passwordParameters.isSupported else {
            throw BenchError.invalidOption(
                "--password-cost must be from 1 to \(PasswordHasher.Parameters.maximumLogRounds).")
        }
        // No accounts to import (the bench registers its users), and no warning about a missing file.
        try Data().write(to: URL(fileURLWithPath: "\(directory)/credentials.txt"))

        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, blockDuration: 60, credentialsPath: "\(directory)/credentials.txt",
            tempIDsPath: "\(directory)/tempIDs.txt",
            databasePath: options.database == .file ? "\(directory)/bluetrace.sqlite" : nil,
            tempIDScheme: options.tempIDScheme, keyFilePath: "\(directory)/bluetrace-keys.json",
            passwordParameters: options.passwordParameters, maximumFrameSize: options.maximumFrameSize,
            limits: Self.limits, tls: serverTLS)
        let authority = try await ServerApplication.open(
            configuration: configuration, logger: logger
        ).authority
        logger.info("spawned server files", metadata: ["directory": "\(directory)"])
        let server = try await LocalServer.start(
            configuration: configuration, authority: authority, logger: logger, eventLoopGroup: eventLoopGroup)
        return try await LocalServer.whileServing(server) { try await body(ListeningAddress(port: $0.port, tls: tls)) }
    }
}
