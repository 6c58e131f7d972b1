import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import BlueTraceWire
import Logging

/// The in-process transport, for large populations: the real `HealthAuthority` (in-memory store) and, for every
/// phone, the real client rules — TempID wallet rotation and renewal, the beacon validity check, contact-log
/// retention — with messages passed as values instead of sockets.
///
/// Only phones that will upload keep their contact logs in memory; the others count what they log. Nothing observable
/// changes: their logs would be pruned and never read.
actor MemoryNetwork: PhoneNetwork {
    private let configuration: SimulationConfiguration
    private let authority: HealthAuthority
    private let clock = ManualWallClock(Simulator.epoch)
    private var phones: [SimulatedPhone] = []
    private var appPhones: [Int] = []
    private var wallets: [TempIDWallet] = []
    private var current: [IssuedTempID?] = []
    private var broadcasting: [Bool] = []
    /// The expiry of each phone's current TempID (Int64.min when it has none), to check without touching the ID.
    private var currentExpiry: [Int64] = []
    private var logs: [Int: ContactLog] = [:]
    private var issued = 0
    private var downloads = 0

    static let password = "simulated phone"

    init(configuration: SimulationConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        let serverConfiguration = ServerConfiguration(
            port: 0, blockDuration: 60, tempIDLifetime: configuration.tempIDLifetime, credentialsPath: nil,
            tempIDsPath: nil, databasePath: nil, tempIDScheme: configuration.tempIDScheme, keyFilePath: nil,
            sealedBatchSize: configuration.sealedBatchSize, passwordParameters: .simulation)
        authority = try await ServerApplication.open(
            configuration: serverConfiguration, store: InMemoryStore(), clock: clock, logger: logger
        ).authority
    }

    func start(phones: [SimulatedPhone], at time: Timestamp) async throws {
        clock.set(time)
        self.phones = phones
        appPhones = phones.filter(\.hasApp).map(\.index)
        wallets = Array(repeating: TempIDWallet(), count: phones.count)
        current = Array(repeating: nil, count: phones.count)
        broadcasting = Array(repeating: false, count: phones.count)
        currentExpiry = Array(repeating: .min, count: phones.count)
        for phone in phones where phone.isCase { logs[phone.index] = ContactLog() }
        let authority = self.authority
        try await forEachConcurrently(phones.filter(\.hasApp)) { phone in
            _ = try await authority.register(username: phone.username, password: Self.password)
            guard try await authority.login(username: phone.username, password: Self.password) == .accepted else {
                throw SimulationError.loginFailed(phone.username)
            }
        }
        _ = try await advance(to: time)
    }

    func advance(to time: Timestamp) async throws -> [Bool] {
        clock.set(time)
        var needDownload: [Int] = []
        let now = time.secondsSinceEpoch
        for index in appPhones where now > currentExpiry[index] {
            current[index] = wallets[index].current(at: time)
            currentExpiry[index] = current[index]?.validity.expiry.secondsSinceEpoch ?? .min
            if current[index] == nil { needDownload.append(index) }
        }
        if !needDownload.isEmpty {
            let authority = self.authority
            let users = needDownload.map { ($0, phones[$0].username) }
            let batches = try await mapConcurrently(users) { index, username in
                (index, try await authority.issueTempIDs(to: username))
            }
            for (index, grants) in batches {
                wallets[index].fill(with: grants.map(\.issued))
                current[index] = wallets[index].current(at: time)
                currentExpiry[index] = current[index]?.validity.expiry.secondsSinceEpoch ?? .min
                issued += grants.count
                downloads += 1
            }
        }
        for index in phones.indices { broadcasting[index] = currentExpiry[index] >= now }
        return broadcasting
    }

    func deliver(_ pairs: [(sender: Int32, receiver: Int32)], others: Int, at time: Timestamp) async throws -> Int {
        var logged = others
        for (sender, receiver) in pairs {
            guard let beacon = current[Int(sender)] else { continue }
            // The receiving phone's rule: a beacon is valid when now is inside its window; only valid ones are logged.
            guard beacon.validity.contains(time) else { continue }
            logs[Int(receiver)]?.append(
                ContactLogEntry(tempID: beacon.tempID, validity: beacon.validity, receivedAt: time))
            logged += 1
        }
        return logged
    }

    func upload(phone: Int, at time: Timestamp) async throws {
        guard var log = logs[phone] else { return }
        log.prune(at: time, policy: RetentionPolicy(retention: Int64(configuration.contactRetentionDays * 86_400)))
        logs[phone] = log
        let entries = log.entries.map { UploadEntry.encounter(ReportedEncounter($0)) }
        _ = try await authority.traceUpload(from: phones[phone].username, entries: entries)
    }

    func tracedContacts(of phone: Int) async throws -> [TracedContact] {
        try await authority.tracedContacts(of: phones[phone].username)
    }

    func tempIDStatistics() -> (issued: Int, downloads: Int) { (issued, downloads) }

    func stop() async {}
}

/// Runs `body` for every element, a few at a time.
func forEachConcurrently<T: Sendable>(
    _ items: [T], width: Int = 8, _ body: @escaping @Sendable (T) async throws -> Void
) async throws {
    _ = try await mapConcurrently(items, width: width) { try await body($0) }
}

/// Maps every element, a few at a time, keeping the input order.
func mapConcurrently<T: Sendable, R: Sendable>(
    _ items: [T], width: Int = 8, _ transform: @escaping @Sendable (T) async throws -> R
) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        while next < min(width, items.count) {
            let index = next
            group.addTask { (index, try await transform(items[index])) }
            next += 1
        }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < items.count {
                let index = next
                group.addTask { (index, try await transform(items[index])) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}

/// Why a simulation stopped.
public enum SimulationError: Error, CustomStringConvertible {
    /// A simulated phone could not log in.
    case loginFailed(String)
    /// The configuration cannot run.
    case invalidConfiguration(String)
    /// A UDP phone did not do what it was told in time.
    case phoneTimedOut(String)

    public var description: String {
        switch self {
        case .loginFailed(let user): "the simulated phone \(user) could not log in"
        case .invalidConfiguration(let problem): problem
        case .phoneTimedOut(let what): "a simulated phone did not respond: \(what)"
        }
    }
}
