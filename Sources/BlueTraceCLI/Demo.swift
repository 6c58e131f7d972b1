import BlueTraceClient
import BlueTraceDomain
import BlueTraceServer
import Foundation
import Logging
import NIOCore

/// `bluetrace demo`: a server and three phones in one process on loopback, playing the assignment's interactions.
///
/// Every party writes to its own labelled transcript; the script waits on those transcripts (never on guessed
/// delays), except where the story itself is about time passing (a TempID expiring, a block ending).
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

    /// Creates the demo writing to `sink`.
    public init(sink: any Transcript, logger: Logger) {
        self.sink = sink
        self.logger = logger
    }

    /// Runs the whole scenario; throws if any party does not do what the script expects.
    public func run() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bluetrace-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.sampleCredentials.write(toFile: "\(directory)/credentials.txt", atomically: true, encoding: .utf8)
        try Self.sampleTempIDs.write(toFile: "\(directory)/tempIDs.txt", atomically: true, encoding: .utf8)

        let narrator = LabelledTranscript(label: "demo", sink: sink)
        let serverOutput = LabelledTranscript(label: "server", sink: sink)
        narrator.write([
            "BlueTrace demo: a server and three phones on loopback, files in \(directory)",
            "TempIDs live \(Self.tempIDLifetime) s and blocks last \(Self.blockDuration) s so both can be seen ending.",
        ])
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, blockDuration: Self.blockDuration, tempIDLifetime: Self.tempIDLifetime,
            credentialsPath: "\(directory)/credentials.txt", tempIDsPath: "\(directory)/tempIDs.txt")
        let authority = try HealthAuthority(configuration: configuration, transcript: serverOutput, logger: logger)
        let (addresses, addressContinuation) = AsyncStream<SocketAddress>.makeStream()
        let server = BlueTraceServer(
            configuration: configuration, authority: authority, logger: logger,
            onListening: { addressContinuation.yield($0) })

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var iterator = addresses.makeAsyncIterator()
            guard let port = await iterator.next()?.port else { throw DemoError.step("the server did not start") }
            narrator.write("The server listens on 127.0.0.1:\(port).")
            let phones = PhoneLauncher(port: port, directory: directory, sink: sink, logger: logger)
            try await play(phones: phones, narrator: narrator, server: serverOutput, group: &group)
            group.cancelAll()
        }
        narrator.write("Demo finished: every step behaved as the assignment describes.")
    }

    private func play(
        phones: PhoneLauncher, narrator: LabelledTranscript, server: LabelledTranscript,
        group: inout ThrowingTaskGroup<Void, any Error>
    ) async throws {
        narrator.write("1. Phone A (+61410777777) logs in.")
        let a = try await phones.start("phone A", group: &group)
        try await a.send("+61410777777", "datha457")
        try await a.expect("Welcome to the BlueTrace Simulator!")

        narrator.write("2. Phone C (+61410999999) mistypes its password three times and is blocked.")
        let c = try await phones.start("phone C", group: &group)
        try await c.send("+61410999999", "wrong1", "wrong2", "wrong3")
        try await c.expect("Your account has been blocked")
        narrator.write("   Even the right password is refused while the block lasts:")
        let c2 = try await phones.start("phone C", group: &group)
        try await c2.send("+61410999999", "bada4568")
        try await c2.expect("Your account is blocked due to multiple login failures")

        narrator.write("3. Phone B (+61410888888) logs in and downloads a TempID; A downloads one too.")
        let b = try await phones.start("phone B", group: &group)
        try await b.send("+61410888888", "comp3331", "Download_tempID")
        try await server.expect("+61410888888")
        try await a.send("Download_tempID")

        narrator.write("4. A types a command that does not exist.")
        try await a.send("Download_tempid")
        try await a.expect("Error. Invalid command")

        narrator.write("5. B beacons its TempID to A over UDP: A finds it valid and logs it.")
        try await b.send("Beacon 127.0.0.1 \(a.beaconPort)")
        try await a.expect("The beacon is valid.")

        narrator.write("6. \(Self.tempIDLifetime) s later B's TempID has expired; B beacons it again and A rejects it.")
        try await Task.sleep(for: .seconds(Self.tempIDLifetime))
        try await b.send("Beacon 127.0.0.1 \(a.beaconPort)")
        try await a.expect("The beacon is invalid.")

        narrator.write("7. A tests positive and uploads its contact log; the server traces B's phone number.")
        try await a.send("Upload_contact_log")
        try await server.expect("Contact log checking")
        try await a.expect("Contact log uploaded")

        narrator.write("8. C's block has ended, so C can log in again.")
        let c3 = try await phones.start("phone C", group: &group)
        try await c3.send("+61410999999", "bada4568")
        try await c3.expect("Welcome to the BlueTrace Simulator!")

        narrator.write("9. Everyone logs out.")
        for phone in [a, b, c3] {
            try await phone.send("logout")
            try await phone.finished()
        }
        try await server.expect("+61410999999 logout")
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

/// Starts demo phones against the demo server.
private struct PhoneLauncher {
    let port: Int
    let directory: String
    let sink: any Transcript
    let logger: Logger

    func start(_ label: String, group: inout ThrowingTaskGroup<Void, any Error>) async throws -> DemoPhone {
        let transcript = LabelledTranscript(label: label, sink: sink)
        let input = ScriptedInput(transcript: transcript)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let (ends, endContinuation) = AsyncStream<ClientOutcome>.makeStream()
        let client = BlueTraceClient(
            configuration: ClientConfiguration(
                serverHost: "127.0.0.1", serverPort: port, udpPort: 0, udpHost: "127.0.0.1",
                logDirectory: directory),
            transcript: transcript, logger: logger,
            onBeaconSocket: { portContinuation.yield($0.port ?? 0) })
        group.addTask {
            let outcome = try await client.run(input: input)
            await input.clientEnded()
            endContinuation.yield(outcome)
            endContinuation.finish()
        }
        var portIterator = ports.makeAsyncIterator()
        guard let beaconPort = await portIterator.next() else { throw DemoError.step("\(label) did not start") }
        return DemoPhone(
            label: label, input: input, transcript: transcript, beaconPort: beaconPort, ends: ends)
    }
}

/// One demo phone: its scripted keyboard and its screen.
private struct DemoPhone {
    let label: String
    let input: ScriptedInput
    let transcript: LabelledTranscript
    let beaconPort: Int
    let ends: AsyncStream<ClientOutcome>

    /// Types `lines` one after the other, each once the phone asks for input, and waits until the phone has handled
    /// the last one (it asks for more input, or exits).
    func send(_ lines: String...) async throws {
        for line in lines { await input.send(line) }
        await input.untilWaiting()
    }

    /// Waits until the phone shows a line containing `text`.
    func expect(_ text: String) async throws {
        _ = try await transcript.recording.waitForLine(containing: text)
    }

    /// Waits until the phone's client has exited.
    func finished() async throws {
        var iterator = ends.makeAsyncIterator()
        guard await iterator.next() != nil else { throw DemoError.step("\(label) did not exit") }
    }
}

extension LabelledTranscript {
    /// Waits until this party shows a line containing `text`.
    func expect(_ text: String) async throws {
        _ = try await recording.waitForLine(containing: text)
    }
}
