import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import NIOCore
import Synchronization

/// Makes TempIDs in the configured scheme, records them, and tells, for any TempID, who it was issued to.
///
/// 20-digit TempIDs are random and mapped in the store; sealed ones carry their own (user, start, expiry), encrypted
/// under the server's key ring, so tracing them needs no table. Both kinds trace whatever the current scheme, so
/// switching schemes loses nothing.
///
/// 20-digit TempIDs are issued by group commit: the requests that arrive while batches are being written (at most
/// `maximumBatchesInFlight`) wait together for the next one, which draws their TempIDs, records them in one store
/// transaction and appends them to tempIDs.txt in one write. Each request is answered only once its TempID is
/// committed and written; under light load a batch is one TempID, so nobody waits for company. A TempID drawn before
/// (the store refuses the repeat) is drawn again in the next batch: a TempID is never issued twice.
package final class TempIDIssuer: Sendable {
    /// One request for TempIDs, waiting for its batch.
    private struct Request: Sendable {
        var user: String
        var completion: @Sendable (Result<[TempIDGrant], any Error>) -> Void
    }

    /// The requests waiting for the next batch, and the random numbers their TempIDs are drawn from.
    private struct Pending: Sendable {
        var waiting: [Request] = []
        /// Batches handed to the store and not yet finished; at `maximumBatchesInFlight`, new requests wait.
        var batchesInFlight = 0
        var random: any RandomNumberGenerator & Sendable
    }

    /// The most TempIDs written in one transaction.
    static let maximumBatch = 1_000
    /// Batches handed to the store at once. One: the requests that arrive while a batch commits all wait for the
    /// next, so batches grow with the load and a transaction's fixed cost is shared by more TempIDs. (Two, so that
    /// the store's writer never waited for the hop back, halved the batches and cost more per TempID on both stores:
    /// docs/BENCHMARKS.md, round 5.)
    static let maximumBatchesInFlight = 1

    let scheme: TempIDScheme
    let policy: TempIDPolicy
    let sealedBatchSize: Int
    let store: any AuthorityStore
    let keys: KeyRingHolder?
    private let journal: TempIDJournal?
    private let clock: any WallClock
    private let format: TimestampFormat
    private let pending: Mutex<Pending>

    /// Creates an issuer; 20-digit TempIDs are drawn from `random` (tests rig it to repeat itself).
    package init(
        scheme: TempIDScheme, policy: TempIDPolicy, sealedBatchSize: Int, store: any AuthorityStore,
        keys: KeyRingHolder?, journal: TempIDJournal? = nil, clock: any WallClock = SystemWallClock(),
        format: TimestampFormat = TimestampFormat(),
        random: any RandomNumberGenerator & Sendable = BufferedSecureRandom()
    ) {
        self.scheme = scheme
        self.policy = policy
        self.sealedBatchSize = sealedBatchSize
        self.store = store
        self.keys = keys
        self.journal = journal
        self.clock = clock
        self.format = format
        self.pending = Mutex(Pending(random: random))
    }

    /// Issues TempIDs to `user`: one 20-digit ID, or a batch of sealed IDs back to back. `completion` runs once, on
    /// any thread, after they are recorded (sealed ones at once, on this thread).
    func issue(to user: String, completion: @escaping @Sendable (Result<[TempIDGrant], any Error>) -> Void) {
        switch scheme {
        case .decimal:
            let startBatch = pending.withLock { pending in
                pending.waiting.append(Request(user: user, completion: completion))
                guard pending.batchesInFlight < Self.maximumBatchesInFlight else { return false }
                pending.batchesInFlight += 1
                return true
            }
            if startBatch { writeNextBatch() }
        case .sealed:
            completion(
                Result {
                    let grants = try keys.unwrap().sealer.sealBatch(
                        user: user, count: sealedBatchSize, startingAt: clock.now(), lifetime: policy.lifetime
                    ).map { TempIDGrant(user: user, issued: $0) }
                    try journal?.append(grants.map { TempIDFile.line(for: $0, format: format) })
                    return grants
                })
        }
    }

    /// Issues TempIDs to `user` and returns them once recorded.
    func issue(to user: String) async throws -> [TempIDGrant] {
        try await withCheckedThrowingContinuation { continuation in
            issue(to: user) { continuation.resume(with: $0) }
        }
    }

    /// Takes the waiting requests (at most `maximumBatch`), draws their TempIDs and hands them to the store.
    private func writeNextBatch() {
        let now = clock.now()
        let validity = policy.validity(issuedAt: now)
        let (batch, grants) = pending.withLock { pending in
            let count = min(pending.waiting.count, Self.maximumBatch)
            guard count > 0 else {
                pending.batchesInFlight -= 1
                return ([Request](), [TempIDGrant]())
            }
            let batch = Array(pending.waiting.prefix(count))
            pending.waiting.removeFirst(count)
            let grants = batch.map {
                TempIDGrant(user: $0.user, tempID: TempID.randomDecimal(using: &pending.random), validity: validity)
            }
            return (batch, grants)
        }
        guard !batch.isEmpty else { return }
        store.recordTempIDs(grants, issuedAt: now) { result in
            self.finish(batch, grants: grants, recorded: result)
        }
    }

    /// Answers the requests of a written batch, and starts the next batch if requests are waiting.
    private func finish(
        _ batch: [Request], grants: [TempIDGrant], recorded result: Result<[Bool], any Error>
    ) {
        var drawAgain: [Request] = []
        switch result {
        case .failure(let error):
            for request in batch { request.completion(.failure(error)) }
        case .success(let recorded):
            var issued: [Int] = []
            issued.reserveCapacity(batch.count)
            for index in batch.indices {
                if recorded[index] { issued.append(index) } else { drawAgain.append(batch[index]) }
            }
            let written = Result {
                try journal?.append(issued.map { TempIDFile.line(for: grants[$0], format: format) })
            }
            for index in issued { batch[index].completion(written.map { _ in [grants[index]] }) }
        }
        let more = pending.withLock { pending in
            pending.waiting.insert(contentsOf: drawAgain, at: 0)
            if pending.waiting.isEmpty { pending.batchesInFlight -= 1 }
            return !pending.waiting.isEmpty
        }
        if more { writeNextBatch() }
    }

    /// How many 20-digit TempIDs are asked of the store at once.
    static let lookupPart = 131_072

    /// What is known of each of `tempIDs`, in their order: issued (to whom, when valid), unknown, or undecryptable.
    /// 20-digit TempIDs are looked up in the store, a TempID repeating one of the last few thousand distinct ones
    /// answered by the same lookup (`RecentTempIDs`); sealed ones are opened, a repeat of one just opened
    /// answered by the same open (`RecentSealedTempIDs`).
    func lookUp(_ tempIDs: [TempID]) async throws -> TempIDLookups {
        var answerOf = [Int32](repeating: 0, count: tempIDs.count)
        var mapped: [TempID] = []
        var sealedPositions: [Int] = []
        var recent = RecentTempIDs()
        for (position, tempID) in tempIDs.enumerated() {
            if let halves = tempID.decimalHalves {
                answerOf[position] = recent.answer(for: halves) {
                    mapped.append(tempID)
                    return Int32(mapped.count - 1)
                }
            } else {
                sealedPositions.append(position)
            }
        }
        var answers: [TempIDLookup] = []
        answers.reserveCapacity(mapped.count)
        try await lookUpMapped(mapped, into: &answers)
        mapped = []
        guard !sealedPositions.isEmpty else { return TempIDLookups(answers: answers, answerOf: answerOf) }
        // The sealed TempIDs' answers follow, one per distinct TempID (without keys, one unknown for all).
        let base = answers.count
        guard let keys else {
            answers.append(.unknown)
            for position in sealedPositions { answerOf[position] = Int32(base) }
            return TempIDLookups(answers: answers, answerOf: answerOf)
        }
        let sealed = await open(at: sealedPositions, of: tempIDs, with: keys)
        answers += sealed.answers
        for (number, position) in sealedPositions.enumerated() {
            answerOf[position] = Int32(base) + sealed.answerOf[number]
        }
        return TempIDLookups(answers: answers, answerOf: answerOf)
    }

    /// Looks `tempIDs` (20-digit) up in the store and appends the answers, in parts, so that the store's answers for a
    /// huge upload are never held beside all of its lookups.
    private func lookUpMapped(_ tempIDs: [TempID], into answers: inout [TempIDLookup]) async throws {
        for start in stride(from: 0, to: tempIDs.count, by: Self.lookupPart) {
            // Most uploads are one part: asked as they are, not copied.
            let end = min(start + Self.lookupPart, tempIDs.count)
            let part = start == 0 && end == tempIDs.count ? tempIDs : Array(tempIDs[start..<end])
            for grant in try await store.grants(of: part) { answers.append(grant.map { .issued($0) } ?? .unknown) }
        }
    }

    /// Opens the sealed TempIDs at `positions`, re-reading the key file once if some name a key this instance has not
    /// read: an answer per distinct TempID, and for each of `positions` the number of its answer.
    private func open(
        at positions: [Int], of tempIDs: [TempID], with keys: KeyRingHolder
    ) async -> SealedAnswers {
        let (ring, sealer) = keys.current
        var opened = await Self.open(positions, of: tempIDs, with: sealer)
        // Sealed under a key this instance has not read: another instance may have rotated the shared key file. The
        // ring is compared, not what `refresh` says: an upload traced at the same time may have just read it.
        if !opened.unknownKey.isEmpty {
            _ = try? keys.refresh()
            let (newRing, newSealer) = keys.current
            if newRing != ring {
                let again = opened.unknownKey.map { opened.firstPositions[$0] }
                let reopened = await Self.open(again, of: tempIDs, with: newSealer)
                for (number, answer) in opened.unknownKey.enumerated() {
                    opened.answers[answer] = reopened.answers[Int(reopened.answerOf[number])]
                }
            }
        }
        return opened
    }

    /// What the sealed TempIDs of an upload are: one answer per distinct TempID (per part of a large upload), the
    /// number of its answer for each TempID asked about, and which answers name a key the sealer lacks.
    struct SealedAnswers: Sendable {
        /// The answers.
        var answers: [TempIDLookup] = []
        /// For each TempID asked about, in order, the index of its answer.
        var answerOf: [Int32] = []
        /// For each answer, the position (in the upload's TempIDs) of the first TempID it answers.
        var firstPositions: [Int] = []
        /// The answers (indices) of TempIDs naming a key the sealer lacks: undecryptable for now, to try again with a
        /// newer ring.
        var unknownKey: [Int] = []
    }

    /// Opens the sealed TempIDs at `positions` of `tempIDs`, in parallel parts across the cores for a large upload, a
    /// TempID repeating one just opened in its part answered by the same open (an upload names the TempIDs it heard
    /// many times over, beacon after beacon, and finding one in a small table costs less than an AES-GCM open).
    static func open(_ positions: [Int], of tempIDs: [TempID], with sealer: TempIDSealer) async -> SealedAnswers {
        let parts = positions.count < 4_096 ? 1 : System.coreCount
        let partSize = max(1, (positions.count + parts - 1) / parts)
        return await withTaskGroup(of: (start: Int, answers: SealedAnswers).self) { group in
            for start in stride(from: 0, to: positions.count, by: partSize) {
                let part = start..<min(start + partSize, positions.count)
                group.addTask { (start, SealedAnswers(positions: positions[part], of: tempIDs, with: sealer)) }
            }
            var parts: [(start: Int, answers: SealedAnswers)] = []
            for await part in group { parts.append(part) }
            parts.sort { $0.start < $1.start }
            // The first part's answers are taken as they are, not copied (each copy retains its TempID's string).
            guard !parts.isEmpty else { return SealedAnswers() }
            var all = parts.removeFirst().answers
            all.answerOf.reserveCapacity(positions.count)
            for (_, part) in parts {
                let base = all.answers.count
                all.unknownKey += part.unknownKey.map { base + $0 }
                all.answers += part.answers
                all.firstPositions += part.firstPositions
                all.answerOf += part.answerOf.map { Int32(base) + $0 }
            }
            return all
        }
    }
}

extension TempIDIssuer.SealedAnswers {
    /// Opens the sealed TempIDs at `positions` of `tempIDs`, a TempID repeating one of the last few thousand distinct
    /// ones answered by the same open (`RecentSealedTempIDs`).
    init(positions: ArraySlice<Int>, of tempIDs: [TempID], with sealer: TempIDSealer) {
        answerOf.reserveCapacity(positions.count)
        var recent = RecentSealedTempIDs()
        for position in positions {
            let tempID = tempIDs[position]
            let answer = recent.answer(for: tempID) {
                let answer = Int32(answers.count)
                switch sealer.open(tempID) {
                case .opened(let user, let validity):
                    answers.append(.issued(TempIDGrant(user: user, tempID: tempID, validity: validity)))
                case .unknownKey:
                    answers.append(.undecryptable)
                    unknownKey.append(Int(answer))
                case .failedDecryption, .malformed:
                    answers.append(.undecryptable)
                }
                firstPositions.append(position)
                return answer
            }
            answerOf.append(answer)
        }
    }
}

/// The server's key ring, kept in the key file that every server instance and `bluetrace keys rotate` share, and
/// re-read when that file changes: `KeyFileWatcher` looks every few seconds, and an upload naming a key this instance
/// has not read yet looks at once (docs/SCALE-OUT.md).
package final class KeyRingHolder: Sendable {
    /// The ring, a sealer made from it (deriving its keys once, not per TempID), and the file version it was read from.
    private struct State {
        var ring: KeyRing
        var sealer: TempIDSealer
        var version: KeyFileVersion?
    }

    private let state: Mutex<State>
    /// The key file, or `nil` for a ring kept only in memory.
    let path: String?

    package init(ring: KeyRing, path: String?) {
        self.state = Mutex(
            State(ring: ring, sealer: TempIDSealer(keyRing: ring), version: path.flatMap(KeyFile.version(of:))))
        self.path = path
    }

    var ring: KeyRing { state.withLock { $0.ring } }

    /// A sealer for the current ring.
    var sealer: TempIDSealer { state.withLock { $0.sealer } }

    /// The current ring and its sealer, read together.
    var current: (ring: KeyRing, sealer: TempIDSealer) { state.withLock { ($0.ring, $0.sealer) } }

    /// Re-reads the key file when it changed since it was last read (one `stat` when it did not). A key file that
    /// has gone is written back from memory, so that an instance starting later shares these keys instead of making
    /// fresh ones.
    @discardableResult
    func refresh() throws -> KeyRingRefresh {
        guard let path else { return .unchanged }
        guard let version = KeyFile.version(of: path) else {
            let ring = self.ring
            try KeyFile.save(ring, to: path)
            state.withLock { $0.version = KeyFile.version(of: path) }
            return .restored
        }
        if state.withLock({ $0.version == version }) { return .unchanged }
        guard let fresh = try KeyFile.load(path: path) else { return .unchanged }
        return state.withLock { state in
            // `version` was read before the file: if it changed in between, the next look reads it again.
            state.version = version
            guard state.ring != fresh else { return .unchanged }
            state.ring = fresh
            state.sealer = TempIDSealer(keyRing: fresh)
            return .reloaded(currentKeyID: fresh.current.id, keys: fresh.keys.count)
        }
    }

    /// Drops keys retired before `cutoff` and saves the file when any were dropped.
    func prune(retiredBefore cutoff: Timestamp) throws -> Int {
        let (ring, dropped) = state.withLock { state in
            let dropped = state.ring.prune(retiredBefore: cutoff)
            if !dropped.isEmpty { state.sealer = TempIDSealer(keyRing: state.ring) }
            return (state.ring, dropped.count)
        }
        if dropped > 0, let path {
            try KeyFile.save(ring, to: path)
            state.withLock { $0.version = KeyFile.version(of: path) }
        }
        return dropped
    }
}

/// What `KeyRingHolder.refresh` found.
package enum KeyRingRefresh: Equatable, Sendable {
    /// The file had not changed (or holds the same ring).
    case unchanged
    /// The file held another ring, now in use: its current key and how many keys it has.
    case reloaded(currentKeyID: UInt8, keys: Int)
    /// The file had gone and was written back from memory.
    case restored
}

extension Optional {
    fileprivate func unwrap() throws -> Wrapped {
        guard let self else { throw MissingKeyRing() }
        return self
    }
}

private struct MissingKeyRing: Error, CustomStringConvertible {
    var description: String { "the sealed TempID scheme needs a key ring, and none was loaded" }
}
