import BlueTraceCLI
import BlueTraceClient
import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import Testing

/// Many clients, hostile clients, lost connections and restarts, with the real server over loopback.
@Suite("Robustness, end to end")
struct RobustnessTests {
    @Test("20 clients log in, download, beacon, upload and log out at the same time")
    func twentyConcurrentClients() async throws {
        let users = (0..<20).map { String(format: "+614100000%02d", $0) }
        let credentials = users.map { "\($0) pass\($0.suffix(2))" }.joined(separator: "\n")
        let directory = try TestDirectory()
        try await withServer(in: directory, credentials: credentials) { server in
            let clients = try await withThrowingTaskGroup(of: (Int, ScriptedClient).self) { group in
                for (index, user) in users.enumerated() {
                    group.addTask {
                        let client = try await server.loggedInClient(user, "pass\(user.suffix(2))")
                        await client.type("Download_tempID")
                        try await client.expect("> TempID:")
                        return (index, client)
                    }
                }
                var clients = [ScriptedClient?](repeating: nil, count: users.count)
                for try await (index, client) in group { clients[index] = client }
                return clients.map { $0! }
            }
            // Everyone beacons the next phone in a ring, at the same time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, client) in clients.enumerated() {
                    let next = clients[(index + 1) % clients.count]
                    group.addTask {
                        await client.type("Beacon 127.0.0.1 \(next.beaconPort)")
                        try await next.expect("The beacon is valid.")
                    }
                }
                try await group.waitForAll()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients {
                    group.addTask {
                        await client.type("Upload_contact_log")
                        try await client.expect("the server received 1 entry and traced 1.")
                        await client.type("logout")
                        #expect(try await client.outcome() == .loggedOut)
                    }
                }
                try await group.waitForAll()
            }
            for (index, user) in users.enumerated() {
                let uploader = users[(index + 1) % users.count]
                let start = try await server.screen.waitForLine(containing: "> received contact log from \(uploader)")
                let checking = try await server.screen.waitForLine(containing: "> Contact log checking", from: start)
                #expect(server.screen.lines[checking + 1] == "\(user),")
            }
        }
    }

    @Test("A client sending garbage gets error replies and its connection survives; others keep working")
    func garbageClientDoesNotDisturbOthers() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let good = try await server.loggedInClient("+61410777777", "datha457")
            let garbage = try await RawConnection.connect(port: server.port)
            let frames: [[UInt8]] = [
                framed("{"),
                framed([0xFF, 0xFE, 0x00, 0x01]),
                framed(""),
                framed(#"{"v":1,"type":"fly_to_the_moon","id":7}"#),
                framed(#"{"v":9,"type":"login","id":8,"username":"a","password":"b"}"#),
                framed(#"{"v":1,"type":"login","id":9,"username":42}"#),
                framed(#"{"v":1,"type":"download_tempid","id":10}"#),
                framed(#"{"v":1,"type":"login","id":11,"username":"+61410888888","password":"comp3331","x":[1]}"#),
            ]
            let (replies, closed) = try await garbage.exchange(Array(frames.joined()), expecting: frames.count)
            #expect(!closed)
            let codes: [WireErrorCode?] = replies.map {
                if case .error(let code, _) = $0.message { return code }
                return nil
            }
            #expect(
                codes == [
                    .badRequest, .badRequest, .badRequest, .unknownType, .unsupportedVersion, .badRequest,
                    .notLoggedIn, nil,
                ])
            #expect(replies.map(\.id) == [nil, nil, nil, 7, 8, 9, 10, 11])
            #expect(replies.last?.message == .welcome(message: "Welcome to the BlueTrace Simulator!"))

            await good.type("Download_tempID")
            try await good.expect("> TempID:")
            await good.type("logout")
            #expect(try await good.outcome() == .loggedOut)
        }
    }

    @Test("A frame larger than the maximum is refused before it is read and the connection is closed")
    func oversizedFrame() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let raw = try await RawConnection.connect(port: server.port)
            let (replies, closed) = try await raw.exchange([0x7F, 0xFF, 0xFF, 0xFF, 0x7B], expecting: 2)
            #expect(closed)
            guard case .error(.frameTooLarge, let message) = replies.first?.message else {
                Issue.record("expected a frame_too_large error, got \(replies)")
                return
            }
            #expect(message.contains("exceeds the maximum"))
            let other = try await server.loggedInClient("+61410777777", "datha457")
            await other.type("logout")
            #expect(try await other.outcome() == .loggedOut)
        }
    }

    @Test("A connection that ends in the middle of a frame is closed without harm")
    func truncatedFrame() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let raw = try await RawConnection.connect(port: server.port)
            try await raw.channel.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: [0, 0, 0, 50, 0x7B, 0x22]))
            }
            let client = try await server.loggedInClient("+61410777777", "datha457")
            await client.type("logout")
            #expect(try await client.outcome() == .loggedOut)
        }
    }

    @Test("A client that cannot reach the server says so and fails")
    func serverUnreachable() async throws {
        let directory = try TestDirectory()
        // A port bound but never listened on, held for the whole attempt: a connection to it is refused, and no other
        // test's server can take it meanwhile (as one could take the port of a server that had just stopped).
        let port = try ReservedPort()
        defer { port.release() }
        await #expect(throws: ClientStartupError.self) {
            _ = try await ScriptedClient.start(
                configuration: ClientConfiguration(
                    serverHost: "127.0.0.1", serverPort: port.number, udpPort: 0, udpHost: "127.0.0.1",
                    logDirectory: directory.path),
                logger: quietLogger)
        }
    }

    @Test("A second client asking for a UDP port another client listens on is refused, and says what to do")
    func udpPortTaken() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let first = try await server.loggedInClient("+61410777777", "datha457")
            let error = await #expect(throws: ClientStartupError.self) {
                _ = try await ScriptedClient.start(
                    configuration: ClientConfiguration(
                        serverHost: "127.0.0.1", serverPort: server.port, udpPort: first.beaconPort,
                        udpHost: "127.0.0.1", logDirectory: directory.path),
                    logger: quietLogger)
            }
            #expect(
                error?.description.contains("Cannot listen for beacons on UDP 127.0.0.1:\(first.beaconPort)") == true)
            #expect(error?.description.contains("Choose another client_udp_port") == true)
            await first.type("logout")
            #expect(try await first.outcome() == .loggedOut)
        }
    }

    @Test("When the server goes away a logged-in client says so and exits with a failure")
    func serverGoesAway() async throws {
        let directory = try TestDirectory()
        let client = try await withServer(in: directory) { server in
            try await server.loggedInClient("+61410777777", "datha457")
        }
        let outcome = try await client.outcome()
        #expect(outcome == .connectionLost || outcome == .serverWentAway)
        #expect(outcome.exitStatus != 0)
        #expect(client.screen.lines.last?.contains("Exiting.") == true)
    }

    @Test("TempIDs issued before a restart still trace after it; tempIDs.txt is never truncated")
    func restartKeepsMappings() async throws {
        let directory = try TestDirectory()
        let clock = ManualWallClock(sampleNow)
        let tempID = try await withServer(in: directory, clock: clock) { server in
            let client = try await server.loggedInClient("+61410888888", "comp3331")
            await client.type("Download_tempID")
            let tempID = client.screen.lines[try await client.expect("> TempID:") + 1]
            await client.type("logout")
            _ = try await client.outcome()
            return tempID
        }
        try directory.write(
            "\(tempID) 13/05/2020 17:56:00 13/05/2020 18:10:59 13/05/2020 17:56:30\n",
            to: "+61410666666_contactlog.txt")
        try await withServer(in: directory, tempIDs: nil, clock: clock) { server in
            let client = try await server.loggedInClient("+61410666666", "kara1234")
            await client.type("Upload_contact_log")
            try await client.expect("traced 1.")
            let checking = try await server.screen.waitForLine(containing: "> Contact log checking")
            #expect(
                Array(server.screen.lines[(checking + 1)...]) == [
                    "+61410888888,", "13/05/2020 17:56:00,", "\(tempID);",
                ])
        }
        #expect(try directory.read("tempIDs.txt").hasPrefix("+61410999999 12345678901234567890"))
    }

    @Test("The demo plays every step and finishes")
    func demoRuns() async throws {
        let output = RecordingTranscript()
        // A manual clock: a loaded machine can take longer than the demo's 3 s block to start phone C again.
        let clock = ManualWallClock(SystemWallClock().now())
        try await Demo(sink: output, logger: quietLogger, time: .manual(clock)).run()
        let lines = output.lines
        #expect(lines.last == "demo     | Demo finished: every step behaved as the assignment describes.")
        #expect(lines.contains("server   | > Contact log checking"))
        #expect(lines.contains("phone A  | The beacon is invalid."))
    }
}

/// A loopback TCP port bound by a socket that never listens: connecting to it is refused for as long as it is held.
struct ReservedPort {
    private let descriptor: Int32
    /// The port's number.
    let number: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        self.descriptor = descriptor
        number = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Lets the port go.
    func release() {
        close(descriptor)
    }
}
