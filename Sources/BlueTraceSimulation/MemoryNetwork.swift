import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import BlueTraceWire
import Foundation
import Logging
import Synchronization

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
    /// The expiry of each phone's current TempID (Int64.min when it has none), to check without touching the ID.
    private var currentExpiry: [Int64] = []
    private var logs: [Int: ContactLog] = [:]
    private var issued = 0
    private var downloads = 0
    /// In an epidemic with tracing anyone with the app may test positive, so every app phone keeps its log, in
    /// runs of beacons heard from one TempID (`heard`). A run of a sealed TempID keeps its sender and window only: the
    /// upload carries a TempID sealed anew for them with the server's key (`resealer`), which the server traces
    /// exactly as the one heard (same user, same window). Decimal TempIDs are kept (`issuedLog`): the server maps them.
    private let keepsEveryLog: Bool
    private let resealer: TempIDSealer?
    private var heard: [HeardShard] = []
    private var issuedLog: [IssuedTempID] = []
    /// Where each phone's current batch starts in `issuedLog`, how long it is, and the ordinal of its current TempID.
    private var batchStart: [Int32] = []
    private var batchCount: [Int32] = []
    private var currentOrdinal: [Int32] = []
    /// The notices the health authority sent, as its observer learned them.
    private let notices = NoticeCollector()

    static let password = "simulated phone"
    /// How many phones' downloads are in flight and held at once.
    static let downloadPart = 4_096

    init(configuration: SimulationConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        keepsEveryLog = configuration.epidemic?.tracing ?? false
        // To seal anew, the simulator shares the server's keys: a fresh ring, handed to the server in memory.
        var keyRing: KeyRing?
        if keepsEveryLog && configuration.tempIDScheme == .sealed {
            let ring = KeyRing.generate(at: Simulator.epoch)
            keyRing = ring
            resealer = TempIDSealer(keyRing: ring)
        } else {
            resealer = nil
        }
        let serverConfiguration = ServerConfiguration(
            port: 0, blockDuration: 60, tempIDLifetime: configuration.tempIDLifetime, credentialsPath: nil,
            tempIDsPath: nil, databasePath: nil, tempIDScheme: configuration.tempIDScheme, keyFilePath: nil,
            sealedBatchSize: configuration.sealedBatchSize, passwordParameters: .simulation,
            exposureNotices: keepsEveryLog ? configuration.closeContactRule : nil, keyRing: keyRing)
        authority = try await ServerApplication.open(
            configuration: serverConfiguration, store: InMemoryStore(), clock: clock, observers: [notices],
            logger: logger
        ).authority
    }

    func start(phones: [SimulatedPhone], at time: Timestamp) async throws {
        clock.set(time)
        self.phones = phones
        appPhones = phones.filter(\.hasApp).map(\.index)
        wallets = Array(repeating: TempIDWallet(), count: phones.count)
        current = Array(repeating: nil, count: phones.count)
        currentExpiry = Array(repeating: .min, count: phones.count)
        for phone in phones where phone.isCase { logs[phone.index] = ContactLog() }
        if keepsEveryLog {
            let shards = configuration.parts
            heard = (0..<shards).map { shard in
                HeardShard(phones: stride(from: shard, to: phones.count, by: shards).underestimatedCount)
            }
            batchStart = Array(repeating: 0, count: phones.count)
            batchCount = Array(repeating: 0, count: phones.count)
            currentOrdinal = Array(repeating: -1, count: phones.count)
        }
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
        // The phones whose TempID expired, found in one read of the expiries: an actor's array read element by
        // element is checked for exclusive access each time, and this runs over every app phone at every step.
        let due = currentExpiry.withUnsafeBufferPointer { expiry in appPhones.filter { now > expiry[$0] } }
        for index in due {
            current[index] = wallets[index].current(at: time)
            currentExpiry[index] = current[index]?.validity.expiry.secondsSinceEpoch ?? .min
            if current[index] == nil { needDownload.append(index) }
            if keepsEveryLog { currentOrdinal[index] = key(of: current[index], phone: index) }
        }
        // A few thousand phones at a time: at the start every phone downloads, and a million batches of TempIDs
        // awaiting their wallets at once would be the run's peak of memory (about 2.5 KB a phone, sealed).
        let authority = self.authority
        for part in stride(from: 0, to: needDownload.count, by: Self.downloadPart) {
            let users = needDownload[part..<min(part + Self.downloadPart, needDownload.count)].map {
                ($0, phones[$0].username)
            }
            let batches = try await mapConcurrently(users) { index, username in
                (index, try await authority.issueTempIDs(to: username))
            }
            for (index, grants) in batches {
                wallets[index].fill(with: grants.map(\.issued))
                current[index] = wallets[index].current(at: time)
                currentExpiry[index] = current[index]?.validity.expiry.secondsSinceEpoch ?? .min
                if keepsEveryLog {
                    if resealer == nil {
                        batchStart[index] = Int32(issuedLog.count)
                        batchCount[index] = Int32(grants.count)
                        issuedLog += grants.map(\.issued)
                    }
                    currentOrdinal[index] = key(of: current[index], phone: index)
                }
                issued += grants.count
                downloads += 1
            }
        }
        return currentExpiry.map { $0 >= now }
    }

    /// What a run of `tempID` (the phone's current one) is keyed by: the phone when TempIDs are sealed anew, else
    /// its place in `issuedLog`; −1 when there is none.
    private func key(of tempID: IssuedTempID?, phone: Int) -> Int32 {
        guard let tempID else { return -1 }
        if resealer != nil { return Int32(phone) }
        let start = Int(batchStart[phone])
        for ordinal in start..<(start + Int(batchCount[phone])) where issuedLog[ordinal] == tempID {
            return Int32(ordinal)
        }
        return -1
    }

    func deliver(_ pairs: [(sender: Int32, receiver: Int32)], others: Int, at time: Timestamp) async throws -> Int {
        if keepsEveryLog { return await deliverToEveryLog(pairs, others: others, at: time) }
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

    /// `deliver` when every app phone keeps its log: a beacon extends the receiver's run for that TempID, or starts one.
    /// The receivers' runs are split into shards, delivered to on all cores at once (each shard's beacons in the order
    /// they came, so the runs do not depend on how many shards there are).
    private func deliverToEveryLog(
        _ pairs: [(sender: Int32, receiver: Int32)], others: Int, at time: Timestamp
    ) async -> Int {
        let beacons = BeaconsOnAir(
            current: current, ordinal: currentOrdinal, time: time, lifetime: configuration.tempIDLifetime)
        let shards = heard
        guard shards.count > 1 else { return others + shards[0].deliver(pairs, from: beacons, shard: 0, of: 1) }
        return await withTaskGroup(of: Int.self) { group in
            for (index, shard) in shards.enumerated() {
                group.addTask { shard.deliver(pairs, from: beacons, shard: index, of: shards.count) }
            }
            return await group.reduce(others, +)
        }
    }

    /// The notices sent since the last call, by phone number of the contact.
    func takeNotices() -> [String] {
        notices.take().map(\.phone)
    }

    func upload(phone: Int, at time: Timestamp) async throws {
        if keepsEveryLog {
            var log = ContactLog()
            for run in heard[phone % heard.count].runs(of: phone / heard.count) {
                let issued: IssuedTempID
                if let resealer {
                    let validity = ValidityWindow(
                        start: Simulator.epoch + Int64(run.start), expiry: Simulator.epoch + Int64(run.expiry))
                    issued = IssuedTempID(
                        tempID: try resealer.seal(user: phones[Int(run.key)].username, validity: validity),
                        validity: validity)
                } else {
                    issued = issuedLog[Int(run.key)]
                }
                // Each beacon of a run counts; all are taken as heard at the run's last (the tracer needs the count
                // and the last encounter; retention may keep a run up to one TempID lifetime longer).
                let entry = ContactLogEntry(issued: issued, receivedAt: Simulator.epoch + Int64(run.last))
                for _ in 0..<run.count { log.append(entry) }
            }
            logs[phone] = log
        }
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

/// Learns the exposure notices the health authority sends, for the epidemic (an observer: never the screen).
final class NoticeCollector: AuthorityObserver {
    private let pending = Mutex<[ExposureNotice]>([])

    func observe(_ event: AuthorityEvent) {
        guard case .exposureNoticesSent(let notices) = event else { return }
        pending.withLock { $0 += notices }
    }

    /// The notices observed since the last call.
    func take() -> [ExposureNotice] {
        pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
    }
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
