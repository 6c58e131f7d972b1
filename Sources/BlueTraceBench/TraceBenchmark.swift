import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import BlueTraceWire
import Foundation
import Logging

/// How fast the health authority traces an upload against a large store, in either TempID scheme.
///
/// Decimal: preloads `mappings` 20-digit TempID mappings into a fresh SQLite database, then times `traceUpload` of
/// one contact log of `entries` entries naming `distinct` of them (verdicts computed, the upload stored). Sealed: the
/// store needs no mappings; `distinct` sealed TempIDs are issued through the core (in OpenTrace-sized batches), then
/// the same upload is traced by opening them. Also measured: the peak resident memory, the store's growth on disk per
/// entry, and how long a server takes to open the store again (rebuilding its TempID index).
public enum TraceBenchmark {
    /// Which TempIDs the upload names.
    public enum Scheme: String, Sendable, Codable, CaseIterable {
        /// 20-digit TempIDs, traced through the store's mappings.
        case decimal
        /// Sealed TempIDs, traced by opening each (AES-GCM).
        case sealed
    }

    /// What one run measured.
    public struct Result: Sendable, Codable {
        /// The scheme of the upload's TempIDs.
        public var scheme: Scheme
        /// TempID mappings in the store (decimal), or sealed TempIDs issued before the trace (sealed).
        public var mappings: Int
        /// Entries in the traced upload.
        public var entries: Int
        /// Distinct TempIDs among them.
        public var distinct: Int
        /// Entries traced to a user (all of them: every entry names an issued TempID with its times).
        public var matched: Int
        /// Seconds to load the mappings (decimal) or issue the TempIDs (sealed).
        public var loadSeconds: Double
        /// Seconds to trace and store the upload.
        public var traceSeconds: Double
        /// Entries traced per second.
        public var entriesPerSecond: Double { Double(entries) / max(traceSeconds, 1e-9) }
        /// Seconds for a server to open the store again, its TempID index rebuilt from the table.
        public var reopenSeconds: Double
        /// The process's peak resident memory, in bytes.
        public var peakResidentBytes: Int
        /// How much the database file grew with the upload (the WAL written back before and after), per entry.
        public var storedBytesPerEntry: Double
    }

    static let start = Timestamp(secondsSinceEpoch: 1_767_571_200)

    /// The users the mappings are issued to, in turn: 100,000 phone numbers, each made once (making them per
    /// mapping cost a seventh of loading ten million, and measured the benchmark instead of the store).
    static let users = (0..<100_000).map { index in
        let number = String(index)
        return "+614" + String(repeating: "0", count: 8 - number.count) + number
    }

    /// The mapping number `index`: TempID `index` as 20 digits, a user, and a 15-minute window.
    static func grant(_ index: Int) -> TempIDGrant {
        let windowStart = start + Int64(index % 1_000) * 900
        return TempIDGrant(
            user: users[index % users.count],
            tempID: TempID(decimalHalves: (UInt64(index / 10_000_000_000), UInt64(index % 10_000_000_000)))!,
            validity: ValidityWindow(start: windowStart, expiry: windowStart + 899))
    }

    /// Runs the benchmark with its database in `directory`; `distinct` defaults to as many as possible.
    public static func run(
        scheme: Scheme = .decimal, mappings: Int, entries: Int, distinct: Int? = nil, directory: String,
        logger: Logger
    ) async throws -> Result {
        let path = "\(directory)/trace-benchmark.sqlite"
        let distinct = min(distinct ?? entries, entries, scheme == .decimal ? mappings : entries)
        var loadSeconds = 0.0
        var traceSeconds = 0.0
        var matched = 0
        var grown = 0
        do {
            let store = try SQLiteStore(path: path)
            let authority = try await ServerApplication.open(
                configuration: ServerConfiguration(
                    port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: nil, databasePath: nil,
                    tempIDScheme: scheme == .sealed ? .sealed : .decimal, keyFilePath: nil,
                    passwordParameters: .simulation),
                store: store, logger: logger
            ).authority
            let loading = ContinuousClock.now
            var named: [(tempID: TempID, validity: ValidityWindow)] = []
            named.reserveCapacity(distinct)
            switch scheme {
            case .decimal:
                var loaded = 0
                while loaded < mappings {
                    let chunk = min(100_000, mappings - loaded)
                    _ = try await store.importTempIDs((loaded..<(loaded + chunk)).map(grant), at: start)
                    loaded += chunk
                }
                // Spread over the whole store (a stride coprime with most sizes), as real uploads would be.
                for index in 0..<distinct {
                    let grant = grant((index &* 7_919) % mappings)
                    named.append((grant.tempID, grant.validity))
                }
            case .sealed:
                var user = 0
                while named.count < distinct {
                    let number = String(user % 100_000)
                    let batch = try await authority.issueTempIDs(
                        to: "+614" + String(repeating: "0", count: 8 - number.count) + number)
                    for grant in batch.prefix(distinct - named.count) { named.append((grant.tempID, grant.validity)) }
                    user += 1
                }
            }
            loadSeconds = seconds(ContinuousClock.now - loading)
            let upload = (0..<entries).map { index -> UploadEntry in
                let (tempID, validity) = named[index % distinct]
                return .encounter(
                    ReportedEncounter(tempID: tempID, validity: validity, receivedAt: validity.start + 1))
            }
            try await store.checkpoint()
            let before = databaseBytes(path)
            let tracing = ContinuousClock.now
            let receipt = try await authority.traceUpload(from: "+61499999999", entries: upload)
            traceSeconds = seconds(ContinuousClock.now - tracing)
            try await store.checkpoint()
            grown = databaseBytes(path) - before
            matched = receipt.matched
        }
        // The server of the run is gone; a reader opening the store builds its index on first use, as a server
        // does at start.
        let reopening = ContinuousClock.now
        let reopened = try SQLiteStore(path: path, exclusive: false)
        _ = try await reopened.grants(for: [grant(0).tempID])
        let reopenSeconds = seconds(ContinuousClock.now - reopening)
        return Result(
            scheme: scheme, mappings: scheme == .decimal ? mappings : distinct, entries: entries, distinct: distinct,
            matched: matched, loadSeconds: loadSeconds, traceSeconds: traceSeconds, reopenSeconds: reopenSeconds,
            peakResidentBytes: peakResidentBytes(), storedBytesPerEntry: Double(grown) / Double(max(entries, 1)))
    }

    /// The size of the database file at `path`.
    private static func databaseBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil) ?? 0
    }

    /// The process's peak resident memory so far (`getrusage`), in bytes.
    private static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss * 1024  // kilobytes on Linux
        #else
            getrusage(RUSAGE_SELF, &usage)
            return usage.ru_maxrss  // bytes on Darwin
        #endif
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
