import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
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
    /// Whether to start the protocol stub (`StubServer`, canned replies) instead of the real server.
    public var stub: Bool

    /// Creates options; the defaults are those of `bluetrace bench --spawn`.
    public init(
        database: Database = .file,
        passwordCost: Int = 10,
        maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        tempIDScheme: TempIDScheme = .decimal,
        stub: Bool = false
    ) {
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

/// The address a spawned server listens on.
struct ListeningAddress: Sendable {
    var host: String
    var port: Int
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
        if options.stub {
            return try await runStub(options: options, eventLoopGroup: eventLoopGroup, body)
        }
        guard options.passwordParameters.isSupported else {
            throw BenchError.invalidOption(
                "--password-cost must be from 1 to \(PasswordHasher.Parameters.maximumLogRounds).")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bluetrace-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // No accounts to import (the bench registers its users), and no warning about a missing file.
        try Data().write(to: URL(fileURLWithPath: "\(directory)/credentials.txt"))

        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, blockDuration: 60, credentialsPath: "\(directory)/credentials.txt",
            tempIDsPath: "\(directory)/tempIDs.txt",
            databasePath: options.database == .file ? "\(directory)/bluetrace.sqlite" : nil,
            tempIDScheme: options.tempIDScheme, keyFilePath: "\(directory)/bluetrace-keys.json",
            passwordParameters: options.passwordParameters, maximumFrameSize: options.maximumFrameSize,
            limits: Self.limits)
        let authority = try await HealthAuthority.open(
            configuration: configuration, transcript: DiscardingTranscript(), logger: logger)
        logger.info("spawned server files", metadata: ["directory": "\(directory)"])
        return try await whileServing("the in-process server", body) { listening in
            try await BlueTraceServer(
                configuration: configuration, authority: authority, logger: logger, eventLoopGroup: eventLoopGroup,
                onListening: { await listening($0.port ?? 0) }
            ).run()
        }
    }

    private static func runStub<Result: Sendable>(
        options: SpawnOptions,
        eventLoopGroup: any EventLoopGroup,
        _ body: @Sendable (ListeningAddress) async throws -> Result
    ) async throws -> Result {
        let stub = StubServer(eventLoopGroup: eventLoopGroup, maximumFrameSize: options.maximumFrameSize)
        return try await whileServing("the stub server", body) { listening in try await stub.run(onListening: listening)
        }
    }

    /// Runs `serve` in a child task until it says on which loopback port it listens, then `body` against that port;
    /// stops the server when `body` returns. `serve` calls its argument once it accepts connections.
    private static func whileServing<Result: Sendable>(
        _ name: String,
        _ body: @Sendable (ListeningAddress) async throws -> Result,
        serve: @escaping @Sendable (_ listening: @escaping @Sendable (Int) async -> Void) async throws -> Void
    ) async throws -> Result {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                defer { portSink.finish() }
                try await serve { portSink.yield($0) }
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                _ = try await group.next()  // the server's own error, if it failed to start
                throw BenchError.connectionClosed(during: "the start of \(name)")
            }
            let result = try await body(ListeningAddress(host: "127.0.0.1", port: port))
            group.cancelAll()
            return result
        }
    }
}
