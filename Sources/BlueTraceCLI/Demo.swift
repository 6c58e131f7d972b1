import BlueTraceAuthority
import BlueTraceClient
import BlueTraceDomain
import BlueTraceServer
import BlueTraceTLS
import Foundation
import Logging
import NIOCore

/// `bluetrace demo`: a server and three phones in one process on loopback, playing the assignment's interactions.
///
/// Every party writes to its own labelled transcript; the script waits on those transcripts (never on guessed
/// delays), except where the story itself is about time passing (a TempID expiring, a block ending): there it lets
/// time pass through its `DemoTime`, real seconds by default, a manual clock's in tests.
public struct Demo: Sendable {
    /// The sample accounts, as the assignment's credentials.txt (CRLF line endings, no final newline).
    public static let sampleCredentials =
        "+61410666666 kara1234\r\n+61410777777 datha457\r\n+61410888888 comp3331\r\n+61410999999 bada4568"
    /// The sample TempID mappings, as the assignment's tempIDs.txt.
    public static let sampleTempIDs =
        "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n"
        + "+61410888888 12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\r\n"
        + "+61410777777 12345678901234567892 14/05/2020 17:45:06 14/05/2020 18:00:05"

    /// Seconds a TempID lives in the demo, so one can be seen expiring.
    static let tempIDLifetime: Int64 = 3
    /// Seconds an account stays blocked in the demo, so the block can be seen ending.
    static let blockDuration: Int64 = 3

    private let sink: any Transcript
    private let logger: Logger
    private let tls: Bool
    private let time: DemoTime

    /// Creates the demo writing to `sink`; with `tls`, the phones talk to the server over TLS, with a development
    /// certificate made for the run. The server and phones read `time`'s clock.
    public init(sink: any Transcript, logger: Logger, tls: Bool = false, time: DemoTime = .real) {
        self.sink = sink
        self.logger = logger
        self.tls = tls
        self.time = time
    }

    /// Runs the whole scenario; throws if any party does not do what the script expects.
    public func run() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bluetrace-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.sampleCredentials.write(toFile: "\(directory)/credentials.txt", atomically: true, encoding: .utf8)
        try Self.sampleTempIDs.write(toFile: "\(directory)/tempIDs.txt", atomically: true, encoding: .utf8)

        let narrator = PrefixedTranscript(label: "demo", sink: sink)
        let serverOutput = RecordingTranscript(forward: PrefixedTranscript(label: "server", sink: sink))
        narrator.write([
            "BlueTrace demo: a server and three phones on loopback, files in \(directory)",
            "TempIDs live \(Self.tempIDLifetime) s and blocks last \(Self.blockDuration) s so both can be seen ending.",
        ])
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, blockDuration: Self.blockDuration, tempIDLifetime: Self.tempIDLifetime,
            credentialsPath: "\(directory)/credentials.txt", tempIDsPath: "\(directory)/tempIDs.txt",
            databasePath: "\(directory)/bluetrace.sqlite", passwordParameters: .fast)
        var clientTLS: TLSClientContext?
        if tls {
            let files = try DevelopmentCertificates.write(to: "\(directory)/certs")
            configuration.tls = try TLSServerContext(
                identity: TLSServerIdentity(certificatePath: files.serverCertificate, keyPath: files.serverKey))
            clientTLS = try TLSClientTrust(certificateAuthorityPath: files.certificateAuthority).makeContext()
            narrator.write("The phones talk to the server over TLS (a development certificate in \(directory)/certs).")
        }
        let authority = try await ServerApplication.open(
            configuration: configuration, clock: time.clock,
            observers: [AssignmentTranscript(transcript: serverOutput, format: configuration.timeFormat)],
            logger: logger
        ).authority
        let server = try await LocalServer.start(configuration: configuration, authority: authority, logger: logger)
        try await LocalServer.whileServing(server) { server in
            narrator.write("The server listens on 127.0.0.1:\(server.port).")
            try await play(
                port: server.port, tls: clientTLS, directory: directory, narrator: narrator, server: serverOutput)
        }
        narrator.write("Demo finished: every step behaved as the assignment describes.")
    }

    private func play(
        port: Int, tls: TLSClientContext?, directory: String, narrator: PrefixedTranscript,
        server: RecordingTranscript
    )
        async throws
    {
        func phone(_ label: String) async throws -> ScriptedClient {
            try await ScriptedClient.start(
                configuration: ClientConfiguration(
                    serverHost: "127.0.0.1", serverPort: port, udpPort: 0, udpHost: "127.0.0.1",
                    logDirectory: directory, tls: tls),
                clock: time.clock,
                screen: RecordingTranscript(forward: PrefixedTranscript(label: label, sink: sink)), logger: logger)
        }

        narrator.write("1. Phone A (+61410777777) logs in.")
        let a = try await phone("phone A")
        await a.type("+61410777777", "datha457")
        try await a.expect("Welcome to the BlueTrace Simulator!")

        narrator.write("2. Phone C (+61410999999) mistypes its password three times and is blocked.")
        let c = try await phone("phone C")
        await c.type("+61410999999", "wrong1", "wrong2", "wrong3")
        try await c.expect("Your account has been blocked")
        narrator.write("   Even the right password is refused while the block lasts:")
        let c2 = try await phone("phone C")
        await c2.type("+61410999999", "bada4568")
        try await c2.expect("Your account is blocked due to multiple login failures")

        narrator.write("3. Phone B (+61410888888) logs in and downloads a TempID; A downloads one too.")
        let b = try await phone("phone B")
        await b.type("+61410888888", "comp3331", "Download_tempID")
        await a.type("Download_tempID")

        narrator.write("4. A types a command that does not exist.")
        await a.type("Download_tempid")
        try await a.expect("Error. Invalid command")

        narrator.write("5. B beacons its TempID to A over UDP: A finds it valid and logs it.")
        await b.type("Beacon 127.0.0.1 \(a.beaconPort)")
        try await a.expect("The beacon is valid.")

        narrator.write("6. \(Self.tempIDLifetime) s later B's TempID has expired; B beacons it again and A rejects it.")
        try await time.pass(Self.tempIDLifetime)
        await b.type("Beacon 127.0.0.1 \(a.beaconPort)")
        try await a.expect("The beacon is invalid.")

        narrator.write("7. A tests positive and uploads its contact log; the server traces B's phone number.")
        await a.type("Upload_contact_log")
        try await server.waitForLine(containing: "Contact log checking")
        try await a.expect("Contact log uploaded")

        narrator.write("8. C's block has ended, so C can log in again.")
        let c3 = try await phone("phone C")
        await c3.type("+61410999999", "bada4568")
        try await c3.expect("Welcome to the BlueTrace Simulator!")

        narrator.write("9. Everyone logs out.")
        for phone in [a, b, c3] {
            await phone.type("logout")
            guard try await phone.outcome() == .loggedOut else { throw DemoError.step("a phone did not log out") }
        }
        for phone in [c, c2] {
            guard try await phone.outcome() == .loginRefused else { throw DemoError.step("phone C was not refused") }
        }
        try await server.waitForLine(containing: "+61410999999 logout")
    }
}

/// Why the demo stopped.
enum DemoError: Error, CustomStringConvertible {
    case step(String)

    var description: String {
        switch self {
        case .step(let what): "demo failed: \(what)"
        }
    }
}
