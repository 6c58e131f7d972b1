import BlueTraceAuthority
import BlueTraceClient
import BlueTraceDomain
import BlueTraceStore
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import BlueTraceServer

/// A store that counts the TempID transactions it is asked for, around a real SQLite store.
final class CountingStore: AuthorityStore {
    let inner: SQLiteStore
    private let batches = Mutex<[Int]>([])

    init() throws { inner = try SQLiteStore() }

    /// The size of every TempID transaction so far.
    var tempIDBatches: [Int] { batches.withLock { $0 } }

    func recordTempIDs(
        _ grants: [TempIDGrant], issuedAt time: Timestamp,
        completion: @escaping @Sendable (Result<[Bool], any Error>) -> Void
    ) {
        batches.withLock { $0.append(grants.count) }
        inner.recordTempIDs(grants, issuedAt: time, completion: completion)
    }

    func account(named username: String) async throws -> Account? { try await inner.account(named: username) }
    func createAccount(username: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        try await inner.createAccount(username: username, passwordHash: passwordHash, at: time)
    }
    func updatePasswordHash(username: String, passwordHash: String, at time: Timestamp) async throws {
        try await inner.updatePasswordHash(username: username, passwordHash: passwordHash, at: time)
    }
    func loginState(for username: String) async throws -> LoginState { try await inner.loginState(for: username) }
    func updateLoginState<Result: Sendable>(
        for username: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result {
        try await inner.updateLoginState(for: username, at: time, change)
    }
    func importTempIDs(_ grants: [TempIDGrant], at time: Timestamp) async throws -> Int {
        try await inner.importTempIDs(grants, at: time)
    }
    func grants(of tempIDs: [TempID]) async throws -> [TempIDGrant?] { try await inner.grants(of: tempIDs) }
    func recordUpload(_ upload: UploadRecord, audit: [AuditEntry]) async throws -> Int64 {
        try await inner.recordUpload(upload, audit: audit)
    }
    func deleteData(olderThan cutoff: Timestamp) async throws -> RetentionReport {
        try await inner.deleteData(olderThan: cutoff)
    }
    func upload(id: Int64) async throws -> UploadRecord? { try await inner.upload(id: id) }
    func updateUploadCodes<Result: Sendable>(
        for phone: String, at time: Timestamp, _ change: @Sendable (inout UploadCodeLedger) -> Result
    ) async throws -> Result { try await inner.updateUploadCodes(for: phone, at: time, change) }
    func recordAudit(_ entries: [AuditEntry]) async throws { try await inner.recordAudit(entries) }
    func recordNotices(
        _ contacts: [(phone: String, lastEncounter: Timestamp)], at time: Timestamp
    ) async throws -> [ExposureNotice] { try await inner.recordNotices(contacts, at: time) }
    func pendingNotices(for phone: String) async throws -> [ExposureNotice] {
        try await inner.pendingNotices(for: phone)
    }
    func markNoticeDelivered(id: Int64, to phone: String, at time: Timestamp) async throws -> Bool {
        try await inner.markNoticeDelivered(id: id, to: phone, at: time)
    }
    func auditTrail(since: Timestamp?) async throws -> [AuditEntry] { try await inner.auditTrail(since: since) }
    func tracedContacts(of uploader: String) async throws -> [TracedContact] {
        try await inner.tracedContacts(of: uploader)
    }
    func ping() async throws { try await inner.ping() }
    func uploads(offset: Int, limit: Int) async throws -> UploadPage {
        try await inner.uploads(offset: offset, limit: limit)
    }
    func auditPage(offset: Int, limit: Int) async throws -> (total: Int, entries: [AuditEntry]) {
        try await inner.auditPage(offset: offset, limit: limit)
    }
    func noticeStatuses(for phones: [String], since: Timestamp) async throws -> [String: NoticeStatus] {
        try await inner.noticeStatuses(for: phones, since: since)
    }
    func official(named name: String) async throws -> OfficialAccount? { try await inner.official(named: name) }
    func createOfficial(name: String, passwordHash: String, at time: Timestamp) async throws -> Bool {
        try await inner.createOfficial(name: name, passwordHash: passwordHash, at: time)
    }
    func updateOfficialLoginState<Result: Sendable>(
        for name: String, at time: Timestamp, _ change: @Sendable (inout LoginState) -> Result
    ) async throws -> Result? { try await inner.updateOfficialLoginState(for: name, at: time, change) }
}

/// Collects the events a server or a phone reports.
final class EventLog<Event: Sendable>: Sendable {
    private let events = Mutex<[Event]>([])

    var all: [Event] { events.withLock { $0 } }

    func observe(_ event: Event) { events.withLock { $0.append(event) } }
}

extension EventLog: AuthorityObserver where Event == AuthorityEvent {}
extension EventLog: PhoneObserver where Event == PhoneEvent {}

/// The core without a transport: group commit under racing requests, events, and the in-process runner.
@Suite("Core")
struct CoreTests {
    @Test("TempIDs requested at once are committed in batches; each caller gets its own, in the store and the file")
    func racingRequestsAreBatched() async throws {
        let directory = try TestDirectory()
        let store = try CountingStore()
        let events = EventLog<AuthorityEvent>()
        let configuration = ServerConfiguration(
            port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: "\(directory.path)/tempIDs.txt",
            databasePath: nil, passwordParameters: .fast, timeFormat: .utc)
        let authority = try await ServerApplication.open(
            configuration: configuration, store: store, observers: [events], logger: quietLogger
        ).authority
        let users = (0..<600).map { String(format: "+614100%05d", $0) }
        let issued = try await withThrowingTaskGroup(of: (String, TempIDGrant).self) { group in
            for user in users { group.addTask { (user, try await authority.issueTempIDs(to: user)[0]) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(issued.count == 600)
        #expect(Set(issued.values.map(\.tempID)).count == 600, "no TempID issued twice")
        #expect(issued.allSatisfy { $0.key == $0.value.user }, "each caller got its own")
        let batches = store.tempIDBatches
        #expect(batches.reduce(0, +) == 600)
        #expect(batches.count < 600, "racing requests share transactions (batches: \(batches.count))")
        let stored = try await store.grants(for: issued.values.map(\.tempID))
        #expect(stored.count == 600)
        let lines = try directory.read("tempIDs.txt").split(whereSeparator: \.isNewline)
        // A line is `user tempID start expiry` (the assignment's tempIDs.txt).
        let written = Set(lines.map { String($0.split(separator: " ")[1]) })
        #expect(lines.count == 600)
        #expect(written == Set(issued.values.map(\.tempID.rawValue)), "tempIDs.txt holds every TempID once")
        let reported = events.all.compactMap { event -> TempIDGrant? in
            if case .tempIDsIssued(_, let grants) = event { return grants.first }
            return nil
        }
        #expect(Set(reported) == Set(issued.values), "every issue is reported once")
    }

    @Test("An in-process server on a port in use fails at once with the bind error")
    func failedBind() async throws {
        let first = try await LocalServer.start(
            configuration: ServerConfiguration(
                host: "127.0.0.1", port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: nil,
                databasePath: nil),
            responder: ManualResponder(), logger: quietLogger)
        try await LocalServer.whileServing(first) { first in
            let started = ContinuousClock.now
            await #expect(throws: ServerBindError.self) {
                _ = try await LocalServer.start(
                    configuration: ServerConfiguration(
                        host: "127.0.0.1", port: first.port, blockDuration: 60, credentialsPath: nil,
                        tempIDsPath: nil, databasePath: nil),
                    responder: ManualResponder(), logger: quietLogger)
            }
            // Not a timing assertion on speed: a hang would never get here; this says the failure was not a time-out.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }
}

/// What the server and the phones report as events, beside what they print.
@Suite("Events")
struct EventTests {
    @Test("A phone reports downloads, beacons heard with their verdict, datagrams that are not beacons, and uploads")
    func phoneEvents() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let events = EventLog<PhoneEvent>()
            let phone = try await server.client(observers: [events])
            await phone.type("+61410777777", "datha457", "Download_tempID")
            try await phone.expect("> TempID:")
            try sendDatagram([0xFF, 0x00, 0x41], to: phone.beaconPort)
            try await phone.expect("> received an invalid beacon from 127.0.0.1")
            let valid = "12345678901234567891,13/05/2020 17:54:06,13/05/2020 18:09:05,1"
            try sendDatagram(Array(valid.utf8), to: phone.beaconPort)
            let validVerdict = try await phone.expect("The beacon is valid.")
            let expired = "12345678901234567892,14/05/2020 17:45:06,14/05/2020 18:00:05,1"
            try sendDatagram(Array(expired.utf8), to: phone.beaconPort)
            // After the valid verdict: the datagram that is not a beacon printed this line too.
            try await phone.expect("The beacon is invalid.", from: validVerdict + 1)
            await phone.type("Upload_contact_log")
            try await phone.expect("Contact log uploaded")
            let summary = events.all.map { event -> String in
                switch event {
                case .tempIDsDownloaded(let count, let renewal): "downloaded \(count) renewal \(renewal)"
                case .invalidDatagram: "invalid datagram"
                case .beaconHeard(let issued, let valid): "heard \(issued.tempID) valid \(valid)"
                case .contactLogUploaded(let receipt): "uploaded \(receipt.received) traced \(receipt.matched)"
                case .exposureNoticeReceived(let last): "notice \(last)"
                }
            }
            #expect(
                summary == [
                    "downloaded 1 renewal false", "invalid datagram", "heard 12345678901234567891 valid true",
                    "heard 12345678901234567892 valid false", "uploaded 1 traced 1",
                ])
            await phone.type("logout")
            #expect(try await phone.outcome() == .loggedOut)
        }
    }
}
