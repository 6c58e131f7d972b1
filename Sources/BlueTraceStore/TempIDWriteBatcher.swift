import BlueTraceDomain
import GRDB
import Synchronization

/// Group commit for issued TempIDs: the `recordTempID` calls that arrive while a write is under way are written
/// together, in the next transaction, instead of one transaction (and one trip to the writer queue) each.
///
/// Every caller still learns its own outcome (recorded, or refused as a repeat), and only after the transaction
/// holding its TempID has committed. Under light load a batch is one TempID, so nobody waits for company.
/// Each batch is queued behind the writes already waiting (logins, uploads), never ahead of them.
final class TempIDWriteBatcher: Sendable {
    private struct Request {
        var grant: TempIDGrant
        var issuedAt: Timestamp
        var reply: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var waiting: [Request] = []
        /// Whether a batch is queued on the writer; new requests then just join `waiting`.
        var batchQueued = false
    }

    /// The most TempIDs written in one transaction.
    static let maximumBatch = 1_000

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Records `grant`; returns `false` when the TempID was already recorded (nothing is changed then).
    func record(_ grant: TempIDGrant, issuedAt time: Timestamp) async throws -> Bool {
        try await withCheckedThrowingContinuation { reply in
            let queueBatch = state.withLock { state in
                state.waiting.append(Request(grant: grant, issuedAt: time, reply: reply))
                defer { state.batchQueued = true }
                return !state.batchQueued
            }
            if queueBatch { writeNextBatch() }
        }
    }

    /// Queues one transaction on the writer that takes whatever is waiting when it starts.
    private func writeNextBatch() {
        writer.asyncWriteWithoutTransaction { db in
            let batch = self.state.withLock { state in
                let count = min(state.waiting.count, Self.maximumBatch)
                defer { state.waiting.removeFirst(count) }
                return Array(state.waiting.prefix(count))
            }
            do {
                let recorded = try Self.insert(batch, into: db)
                for (request, wasRecorded) in zip(batch, recorded) { request.reply.resume(returning: wasRecorded) }
            } catch {
                for request in batch { request.reply.resume(throwing: error) }
            }
            let more = self.state.withLock { state in
                state.batchQueued = !state.waiting.isEmpty
                return state.batchQueued
            }
            if more { self.writeNextBatch() }
        }
    }

    /// Inserts the batch in one transaction; tells, for each, whether it was new.
    private static func insert(_ batch: [Request], into db: Database) throws -> [Bool] {
        var recorded: [Bool] = []
        recorded.reserveCapacity(batch.count)
        try db.inTransaction {
            let insert = try TempIDInsert(db, imported: false)
            for request in batch { recorded.append(try insert(request.grant, issuedAt: request.issuedAt)) }
            return .commit
        }
        return recorded
    }
}
