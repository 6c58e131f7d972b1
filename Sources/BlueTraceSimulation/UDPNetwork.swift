import BlueTraceClient
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import Foundation
import Logging
import NIOCore
import Synchronization

/// The real thing on loopback: an in-process `bluetrace` server on a TCP port and one real client per app phone,
/// each with its own UDP socket, contact-log file and scripted keyboard, all on one simulated clock. Beacons are real
/// `Beacon <ip> <port>` commands; uploads are real `Upload_contact_log` commands. For up to a few hundred phones.
actor UDPNetwork: PhoneNetwork {
    private let configuration: SimulationConfiguration
    private let logger: Logger
    private let clock = ManualWallClock(Simulator.epoch)
    private let directory: String
    private let authority: HealthAuthority
    private let server: LocalServer
    private let issued = IssuedTempIDCounter()
    private var phones: [SimulatedPhone] = []
    private var clients: [Int: ScriptedClient] = [:]
    /// Index of the last beacon line each phone's screen showed.
    private var seen: [Int: Int] = [:]
    private var downloads = 0

    init(configuration: SimulationConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("bluetrace-simulate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let serverConfiguration = ServerConfiguration(
            host: "127.0.0.1", port: 0, blockDuration: 60, tempIDLifetime: configuration.tempIDLifetime,
            credentialsPath: nil, tempIDsPath: "\(directory)/tempIDs.txt", databasePath: nil,
            tempIDScheme: configuration.tempIDScheme, keyFilePath: nil, sealedBatchSize: configuration.sealedBatchSize,
            passwordParameters: .simulation, timeFormat: .utc)
        authority = try await HealthAuthority.open(
            configuration: serverConfiguration, clock: clock, observers: [issued], logger: logger)
        // The server runs for the network's lifetime; `stop()` shuts it down.
        server = try await LocalServer.start(configuration: serverConfiguration, authority: authority, logger: logger)
    }

    func start(phones: [SimulatedPhone], at time: Timestamp) async throws {
        self.phones = phones
        clock.set(time)
        let configuration = self.configuration
        let (port, clock, directory, logger) = (server.port, self.clock, self.directory, self.logger)
        let started = try await mapConcurrently(phones.filter(\.hasApp)) { phone in
            let client = try await ScriptedClient.start(
                configuration: ClientConfiguration(
                    serverHost: "127.0.0.1", serverPort: port, udpPort: 0, udpHost: "127.0.0.1",
                    contactRetention: Int64(configuration.contactRetentionDays * 86_400), logDirectory: directory,
                    timeFormat: .utc, register: true),
                clock: clock, logger: logger)
            await client.type(phone.username, MemoryNetwork.password)
            try await client.expect("Welcome to the BlueTrace Simulator!")
            await client.type("Download_tempID")
            try await client.expect("> TempID:")
            return (phone.index, client)
        }
        for (index, client) in started {
            clients[index] = client
            seen[index] = -1
        }
        downloads = started.count
    }

    func advance(to time: Timestamp) async throws -> [Bool] {
        clock.set(time)
        return phones.map(\.hasApp)
    }

    func deliver(_ pairs: [(sender: Int32, receiver: Int32)], others: Int, at time: Timestamp) async throws -> Int {
        var bySender: [Int: [Int]] = [:]
        var expected: [Int: Int] = [:]
        for (sender, receiver) in pairs {
            bySender[Int(sender), default: []].append(Int(receiver))
            expected[Int(receiver), default: 0] += 1
        }
        let clients = self.clients
        try await forEachConcurrently(Array(bySender)) { sender, receivers in
            guard let client = clients[sender] else { return }
            for receiver in receivers {
                guard let target = clients[receiver] else { continue }
                await client.type("Beacon 127.0.0.1 \(target.beaconPort)")
            }
        }
        var logged = 0
        for (receiver, count) in expected {
            guard let client = clients[receiver] else { continue }
            var index = seen[receiver] ?? -1
            for _ in 0..<count {
                index = try await client.expect("> received beacon:", from: index + 1, timeout: .seconds(10))
                if client.screen.line(index + 6) == "The beacon is valid." { logged += 1 }
            }
            seen[receiver] = index
        }
        // Renewals happen inside the clients (a Beacon command downloads when a batch ran out): count them.
        return logged + others
    }

    func upload(phone: Int, at time: Timestamp) async throws {
        guard let client = clients[phone] else { return }
        let before = client.screen.lines.count
        await client.type("Upload_contact_log")
        let after = client.screen.lines.count
        guard (before..<after).contains(where: { client.screen.line($0)?.contains("Contact log uploaded") == true })
        else {
            logger.info("a case had nothing to upload", metadata: ["phone": "\(phones[phone].username)"])
            return
        }
    }

    func tracedContacts(of phone: Int) async throws -> [TracedContact] {
        try await authority.tracedContacts(of: phones[phone].username)
    }

    func tempIDStatistics() -> (issued: Int, downloads: Int) {
        let renewals = clients.values.reduce(0) { total, client in
            total + client.screen.lines.filter { $0.contains("downloading new ones") }.count
        }
        return (issued.count, downloads + renewals)
    }

    func stop() async {
        for client in clients.values { client.kill() }
        for client in clients.values { _ = try? await client.outcome() }
        try? await server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Counts the TempIDs the server issued, from its events.
private final class IssuedTempIDCounter: AuthorityObserver {
    private let issued = Mutex(0)

    var count: Int { issued.withLock { $0 } }

    func observe(_ event: AuthorityEvent) {
        if case .tempIDsIssued(_, let grants) = event { issued.withLock { $0 += grants.count } }
    }
}
