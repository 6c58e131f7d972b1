import BlueTraceAuthority
import BlueTraceClient
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import BlueTraceTLS
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
    private let clientTLS: TLSClientContext?
    private let issued = IssuedTempIDCounter()
    private var phones: [SimulatedPhone] = []
    private var clients: [Int: ScriptedClient] = [:]
    /// What each phone's events said so far.
    private var tallies: [Int: PhoneTally] = [:]
    /// Per phone, the beacons it was sent and the valid ones already counted.
    private var accounted: [Int: (sent: Int, valid: Int)] = [:]
    private var downloads = 0

    init(configuration: SimulationConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("bluetrace-simulate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var serverConfiguration = ServerConfiguration(
            host: "127.0.0.1", port: 0, blockDuration: 60, tempIDLifetime: configuration.tempIDLifetime,
            credentialsPath: nil, tempIDsPath: "\(directory)/tempIDs.txt", databasePath: nil,
            tempIDScheme: configuration.tempIDScheme, keyFilePath: nil, sealedBatchSize: configuration.sealedBatchSize,
            passwordParameters: .simulation, timeFormat: .utc)
        if configuration.tls == true {
            let files = try DevelopmentCertificates.write(to: "\(directory)/certs")
            serverConfiguration.tls = try TLSServerContext(
                identity: TLSServerIdentity(certificatePath: files.serverCertificate, keyPath: files.serverKey))
            clientTLS = try TLSClientTrust(certificateAuthorityPath: files.certificateAuthority).makeContext()
        } else {
            clientTLS = nil
        }
        authority = try await ServerApplication.open(
            configuration: serverConfiguration, clock: clock, observers: [issued], logger: logger
        ).authority
        // The server runs for the network's lifetime; `stop()` shuts it down.
        server = try await LocalServer.start(configuration: serverConfiguration, authority: authority, logger: logger)
    }

    func start(phones: [SimulatedPhone], at time: Timestamp) async throws {
        self.phones = phones
        clock.set(time)
        let configuration = self.configuration
        let (port, clock, directory, logger, tls) = (
            server.port, self.clock, self.directory, self.logger, self.clientTLS
        )
        let started = try await mapConcurrently(phones.filter(\.hasApp)) { phone in
            let tally = PhoneTally()
            let client = try await ScriptedClient.start(
                configuration: ClientConfiguration(
                    serverHost: "127.0.0.1", serverPort: port, udpPort: 0, udpHost: "127.0.0.1",
                    contactRetention: Int64(configuration.contactRetentionDays * 86_400), logDirectory: directory,
                    timeFormat: .utc, register: true, tls: tls),
                clock: clock, observers: [tally], logger: logger)
            await client.type(phone.username, MemoryNetwork.password)
            try await client.expect("Welcome to the BlueTrace Simulator!")
            await client.type("Download_tempID")
            _ = try await tally.waitUntil(timeout: .seconds(10)) { $0.downloads >= 1 }
            return (phone.index, client, tally)
        }
        for (index, client, tally) in started {
            clients[index] = client
            tallies[index] = tally
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
            guard let tally = tallies[receiver] else { continue }
            var (sent, valid) = accounted[receiver] ?? (0, 0)
            sent += count
            let target = sent
            let now = try await tally.waitUntil(timeout: .seconds(10)) { $0.heard >= target }
            logged += now.valid - valid
            valid = now.valid
            accounted[receiver] = (sent, valid)
        }
        return logged + others
    }

    func upload(phone: Int, at time: Timestamp) async throws {
        guard let client = clients[phone], let tally = tallies[phone] else { return }
        let before = tally.counts.uploads
        // `type` returns once the client has handled the command: an upload it made has been reported by then.
        await client.type("Upload_contact_log")
        guard tally.counts.uploads > before else {
            logger.info("a case had nothing to upload", metadata: ["phone": "\(phones[phone].username)"])
            return
        }
    }

    func tracedContacts(of phone: Int) async throws -> [TracedContact] {
        try await authority.tracedContacts(of: phones[phone].username)
    }

    func tempIDStatistics() -> (issued: Int, downloads: Int) {
        // Renewals happen inside the clients (a Beacon command downloads when a batch ran out): their events say.
        let renewals = tallies.values.reduce(0) { $0 + $1.counts.renewals }
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

/// What one phone's events said, to be awaited: beacons heard and how many were valid, downloads, renewals, uploads.
private final class PhoneTally: PhoneObserver {
    struct Counts: Sendable {
        var heard = 0
        var valid = 0
        var downloads = 0
        var renewals = 0
        var uploads = 0
    }

    private struct Waiter {
        var until: @Sendable (Counts) -> Bool
        var continuation: CheckedContinuation<Counts?, Never>
    }

    private struct State {
        var counts = Counts()
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// The counts so far.
    var counts: Counts { state.withLock { $0.counts } }

    func observe(_ event: PhoneEvent) {
        let ready = state.withLock { state -> [(CheckedContinuation<Counts?, Never>, Counts)] in
            switch event {
            case .beaconHeard(_, let valid):
                state.counts.heard += 1
                if valid { state.counts.valid += 1 }
            case .invalidDatagram: state.counts.heard += 1
            case .tempIDsDownloaded(_, let renewal):
                state.counts.downloads += 1
                if renewal { state.counts.renewals += 1 }
            case .contactLogUploaded: state.counts.uploads += 1
            case .exposureNoticeReceived: break
            }
            let counts = state.counts
            let done = state.waiters.filter { $0.value.until(counts) }
            for key in done.keys { state.waiters[key] = nil }
            return done.values.map { ($0.continuation, counts) }
        }
        for (continuation, counts) in ready { continuation.resume(returning: counts) }
    }

    /// Waits until the counts satisfy `until`; throws when they do not within `timeout`.
    func waitUntil(timeout: Duration, _ until: @escaping @Sendable (Counts) -> Bool) async throws -> Counts {
        let found = await withTaskGroup(of: Counts?.self) { group in
            group.addTask { await self.wait(until) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        guard let found else { throw SimulationError.phoneTimedOut("a phone's beacons or downloads") }
        return found
    }

    private func wait(_ until: @escaping @Sendable (Counts) -> Bool) async -> Counts? {
        let key = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Counts?, Never>) in
                let now: Counts?? = state.withLock { state in
                    if until(state.counts) { return state.counts }
                    // Cancelled before registering: the cancellation handler found nothing to resume.
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[key] = Waiter(until: until, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.continuation.resume(returning: nil)
        }
    }
}
