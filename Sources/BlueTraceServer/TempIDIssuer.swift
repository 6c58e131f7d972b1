import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Synchronization

/// Makes TempIDs in the configured scheme and tells, for any TempID, who it was issued to.
///
/// 20-digit TempIDs are random and mapped in the store; sealed ones carry their own (user, start, expiry), encrypted
/// under the server's key ring, so tracing them needs no table. Both kinds trace whatever the current scheme, so
/// switching schemes loses nothing.
struct TempIDIssuer: Sendable {
    let scheme: TempIDScheme
    let policy: TempIDPolicy
    let sealedBatchSize: Int
    let store: any AuthorityStore
    let keys: KeyRingHolder?

    /// Issues TempIDs to `user` at `time`: one 20-digit ID, or a batch of sealed IDs back to back.
    func issue(to user: String, at time: Timestamp) async throws -> [TempIDGrant] {
        var generator = SystemRandomNumberGenerator()
        return try await issue(to: user, at: time, using: &generator)
    }

    /// Issues TempIDs drawing 20-digit ones from `generator` (tests rig it to repeat itself).
    func issue<Generator: RandomNumberGenerator>(
        to user: String, at time: Timestamp, using generator: inout Generator
    ) async throws -> [TempIDGrant] {
        switch scheme {
        case .decimal:
            while true {
                let grant = TempIDGrant(
                    user: user, tempID: TempID.randomDecimal(using: &generator),
                    validity: policy.validity(issuedAt: time))
                // Unique among all TempIDs ever issued: the store refuses a repeat, and we draw again.
                if try await store.recordTempID(grant, issuedAt: time) { return [grant] }
            }
        case .sealed:
            return try keys.unwrap().sealer.sealBatch(
                user: user, count: sealedBatchSize, startingAt: time, lifetime: policy.lifetime
            ).map { TempIDGrant(user: user, tempID: $0.0, validity: $0.1) }
        }
    }

    /// What is known of each TempID: issued (to whom, when valid), unknown, or undecryptable.
    func lookUp(_ tempIDs: [TempID]) async throws -> TempIDLookups {
        let mapped = try await store.grants(for: tempIDs.filter(\.isDecimal))
        var sealed: [TempID: TempIDLookup] = [:]
        let sealer = keys?.sealer
        for tempID in tempIDs where !tempID.isDecimal && sealed[tempID] == nil {
            guard let sealer else {
                sealed[tempID] = .unknown
                continue
            }
            switch sealer.open(tempID) {
            case .opened(let user, let validity):
                sealed[tempID] = .issued(TempIDGrant(user: user, tempID: tempID, validity: validity))
            case .failedDecryption, .malformed:
                sealed[tempID] = .undecryptable
            }
        }
        return TempIDLookups(mapped: mapped, sealed: sealed)
    }
}

/// What `TempIDIssuer.lookUp` learnt: the store's mappings of 20-digit TempIDs and the opened sealed ones, read
/// per TempID without building a third table.
struct TempIDLookups {
    let mapped: [TempID: TempIDGrant]
    let sealed: [TempID: TempIDLookup]

    subscript(tempID: TempID) -> TempIDLookup {
        if let grant = mapped[tempID] { return .issued(grant) }
        return sealed[tempID] ?? .unknown
    }
}

/// The server's key ring, reloaded from the key file when `bluetrace keys rotate` changed it.
final class KeyRingHolder: Sendable {
    /// The ring, and a sealer made from it (deriving its keys once, not per TempID).
    private let state: Mutex<(ring: KeyRing, sealer: TempIDSealer)>
    /// The key file, or `nil` for a ring kept only in memory.
    let path: String?

    init(ring: KeyRing, path: String?) {
        self.state = Mutex((ring, TempIDSealer(keyRing: ring)))
        self.path = path
    }

    var ring: KeyRing { state.withLock { $0.ring } }

    /// A sealer for the current ring.
    var sealer: TempIDSealer { state.withLock { $0.sealer } }

    /// Re-reads the key file; returns whether the ring changed.
    func reload(now: Timestamp) throws -> Bool {
        guard let path else { return false }
        let (fresh, _) = try KeyFile.loadOrCreate(path: path, now: now)
        return state.withLock { state in
            guard state.ring != fresh else { return false }
            state = (fresh, TempIDSealer(keyRing: fresh))
            return true
        }
    }

    /// Drops keys retired before `cutoff` and saves the file when any were dropped.
    func prune(retiredBefore cutoff: Timestamp) throws -> Int {
        let (ring, dropped) = state.withLock { state in
            let dropped = state.ring.prune(retiredBefore: cutoff)
            if !dropped.isEmpty { state.sealer = TempIDSealer(keyRing: state.ring) }
            return (state.ring, dropped.count)
        }
        if dropped > 0, let path { try KeyFile.save(ring, to: path) }
        return dropped
    }
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
