import BlueTraceAuthority
import BlueTraceCLI
import BlueTraceClient
import BlueTraceDomain
import BlueTraceServer
import BlueTraceWire
import Foundation
import Logging
import NIOCore
import NIOPosix

/// 13/05/2020 17:56:00 UTC: inside the sample TempID …891's validity (17:54:06–18:09:05).
let sampleNow = TimestampFormat.utc.timestamp(from: "13/05/2020 17:56:00")!

/// A fresh directory for one test's files, removed at the end.
struct TestDirectory: ~Copyable {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("bluetrace-test-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)
    }
}

/// A running server under test: its port, its screen, and the files and clock it uses.
struct TestServer: Sendable {
    let port: Int
    let screen: RecordingTranscript
    let directory: String
    let clock: ManualWallClock
    let authority: HealthAuthority

    /// Starts a scripted client against this server with the same clock, UTC times and log directory.
    func client(
        retention: Int64 = 180, logDirectory: String? = nil, register: Bool = false,
        observers: [any PhoneObserver] = []
    ) async throws
        -> ScriptedClient
    {
        try await ScriptedClient.start(
            configuration: ClientConfiguration(
                serverHost: "127.0.0.1", serverPort: port, udpPort: 0, udpHost: "127.0.0.1",
                contactRetention: retention, logDirectory: logDirectory ?? directory, timeFormat: .utc,
                register: register),
            clock: clock, observers: observers, logger: quietLogger)
    }

    /// Starts a client and logs it in as `user`.
    func loggedInClient(_ user: String, _ password: String) async throws -> ScriptedClient {
        let client = try await client()
        await client.type(user, password)
        try await client.expect("Welcome to the BlueTrace Simulator!")
        return client
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "bluetrace.test")
    logger.logLevel = .critical
    return logger
}()

/// +61410666666's contact log for the sample files: it heard +61410888888 (…891) and +61410777777 (…892).
let sampleContactLog =
    "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n"
    + "12345678901234567892 14/05/2020 17:45:06 14/05/2020 18:00:05\n"

/// A client (in this process) of a server on `port` of this machine, beaconing on a free UDP port, keeping its contact
/// logs in `directory`: for tests whose server is a process of its own.
func phoneClient(port: Int, directory: String, register: Bool = false) async throws -> ScriptedClient {
    try await ScriptedClient.start(
        configuration: ClientConfiguration(
            serverHost: "127.0.0.1", serverPort: port, udpPort: 0, udpHost: "127.0.0.1", logDirectory: directory,
            register: register),
        logger: quietLogger)
}

/// Runs `body` against a real server on a loopback port chosen by the OS, then stops the server.
func withServer<T: Sendable>(
    in directory: borrowing TestDirectory,
    credentials: String = Demo.sampleCredentials,
    tempIDs: String? = Demo.sampleTempIDs,
    blockDuration: Int64 = 60,
    tempIDLifetime: Int64 = 900,
    scheme: TempIDScheme = .decimal,
    sealedBatchSize: Int = 4,
    limits: ConnectionLimits = ConnectionLimits(),
    clock: ManualWallClock = ManualWallClock(sampleNow),
    _ body: (TestServer) async throws -> T
) async throws -> T {
    if !credentials.isEmpty { try directory.write(credentials, to: "credentials.txt") }
    if let tempIDs { try directory.write(tempIDs, to: "tempIDs.txt") }
    let configuration = ServerConfiguration(
        host: "127.0.0.1", port: 0, blockDuration: blockDuration, tempIDLifetime: tempIDLifetime,
        credentialsPath: "\(directory.path)/credentials.txt", tempIDsPath: "\(directory.path)/tempIDs.txt",
        databasePath: "\(directory.path)/bluetrace.sqlite", tempIDScheme: scheme,
        keyFilePath: "\(directory.path)/keys.json", sealedBatchSize: sealedBatchSize, passwordParameters: .fast,
        limits: limits, timeFormat: .utc)
    let screen = RecordingTranscript()
    let application = try await ServerApplication.open(
        configuration: configuration, clock: clock,
        observers: [AssignmentTranscript(transcript: screen, format: configuration.timeFormat)], logger: quietLogger)
    let authority = application.authority
    let server = try await LocalServer.start(
        configuration: configuration, authority: authority, sessions: application.sessions, logger: quietLogger)
    let path = directory.path
    return try await LocalServer.whileServing(server) { server in
        try await body(
            TestServer(port: server.port, screen: screen, directory: path, clock: clock, authority: authority))
    }
}

/// A raw TCP connection to the server that speaks frames by hand, to send what no well-behaved client would.
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    /// Sends raw bytes, then reads frames until `count` replies arrived or the server closed the connection.
    /// Returns the replies decoded as server frames and whether the connection was closed.
    func exchange(_ bytes: [UInt8], expecting count: Int) async throws -> (replies: [ServerFrame], closed: Bool) {
        try await channel.executeThenClose { inbound, outbound in
            // The server may already have refused and closed the connection; its reply can still be read.
            try? await outbound.write(ByteBuffer(bytes: bytes))
            var replies: [ServerFrame] = []
            var iterator = inbound.makeAsyncIterator()
            while replies.count < count {
                guard let frame = try? await iterator.next() else { return (replies, true) }
                replies.append(try MessageCoder().decode(ServerFrame.self, from: frame))
            }
            return (replies, false)
        }
    }
}

/// `payload` with its 4-byte big-endian length in front.
func framed(_ payload: String) -> [UInt8] {
    framed(Array(payload.utf8))
}

/// `payload` with its 4-byte big-endian length in front.
func framed(_ payload: [UInt8]) -> [UInt8] {
    let length = UInt32(payload.count)
    return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        + payload
}
