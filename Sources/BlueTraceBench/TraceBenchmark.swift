import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import BlueTraceWire
import Foundation
import Logging

/// How fast the health authority traces an upload against a large store: preloads `mappings` 20-digit TempID
/// mappings into a fresh SQLite database, then times `traceUpload` of one contact log of `entries` entries
/// (verdicts computed, every encounter stored).
public enum TraceBenchmark {
    /// What one run measured.
    public struct Result: Sendable, Codable {
        /// TempID mappings in the store.
        public var mappings: Int
        /// Entries in the traced upload.
        public var entries: Int
        /// Entries traced to a user (all of them: every entry names a stored TempID with its times).
        public var matched: Int
        /// Seconds to load the mappings.
        public var loadSeconds: Double
        /// Seconds to trace and store the upload.
        public var traceSeconds: Double
        /// Entries traced per second.
        public var entriesPerSecond: Double { Double(entries) / max(traceSeconds, 1e-9) }
    }

    static let start = Timestamp(secondsSinceEpoch: 1_767_571_200)

    /// The mapping number `index`: TempID `index` as 20 digits, a user, and a 15-minute window.
    static func grant(_ index: Int) -> TempIDGrant {
        let digits = String(index)
        let tempID = TempID(String(repeating: "0", count: 20 - digits.count) + digits)!
        let number = String(index % 100_000)
        let user = "+614" + String(repeating: "0", count: 8 - number.count) + number
        let windowStart = start + Int64(index % 1_000) * 900
        return TempIDGrant(
            user: user, tempID: tempID, validity: ValidityWindow(start: windowStart, expiry: windowStart + 899))
    }

    /// Runs the benchmark with its database in `directory`.
    public static func run(mappings: Int, entries: Int, directory: String, logger: Logger) async throws -> Result {
        let store = try SQLiteStore(path: "\(directory)/trace-benchmark.sqlite")
        let loading = ContinuousClock.now
        var loaded = 0
        while loaded < mappings {
            let chunk = min(100_000, mappings - loaded)
            _ = try await store.importTempIDs((loaded..<(loaded + chunk)).map(grant), at: start)
            loaded += chunk
        }
        let loadSeconds = seconds(ContinuousClock.now - loading)
        let authority = try await ServerApplication.open(
            configuration: ServerConfiguration(
                port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: nil, databasePath: nil,
                passwordParameters: .simulation),
            store: store, logger: logger
        ).authority
        // Entries spread over the whole store (a stride coprime with most sizes), as real uploads would be.
        let upload = (0..<entries).map { index -> UploadEntry in
            let grant = grant((index &* 7_919) % max(mappings, 1))
            return .encounter(ReportedEncounter(tempID: grant.tempID, validity: grant.validity, receivedAt: nil))
        }
        let tracing = ContinuousClock.now
        let receipt = try await authority.traceUpload(from: "+61499999999", entries: upload)
        let traceSeconds = seconds(ContinuousClock.now - tracing)
        return Result(
            mappings: mappings, entries: entries, matched: receipt.matched, loadSeconds: loadSeconds,
            traceSeconds: traceSeconds)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
