import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Foundation
import NIOCore
import Testing

@testable import BlueTraceAuthority

/// Two server instances sharing one key file: a rotation written by one is used by the other, at once when an upload
/// needs it.
@Suite("Shared key file")
struct SharedKeyFileTests {
    static let now = Timestamp(secondsSinceEpoch: 1_589_391_906)

    static func issuer(_ keys: KeyRingHolder, batchSize: Int = 1) -> TempIDIssuer {
        TempIDIssuer(
            scheme: .sealed, policy: TempIDPolicy(), sealedBatchSize: batchSize, store: InMemoryStore(), keys: keys,
            clock: ManualWallClock(now))
    }

    @Test("An upload's repeated sealed TempIDs are opened once each, and every entry gets its own TempID's answer")
    func repeatsOpenedOnce() async throws {
        let keys = KeyRingHolder(ring: KeyRing.generate(at: Self.now), path: nil)
        let issuer = Self.issuer(keys, batchSize: 100)
        // 100 TempIDs in slots of their own, then two that share a slot none of them has.
        var distinct: [TempIDGrant] = []
        var taken: Set<Int> = []
        var spare: [Int: TempIDGrant] = [:]
        var pair: [TempIDGrant] = []
        var user = 0
        while pair.isEmpty {
            user += 1
            for grant in try await issuer.issue(to: "+6141\(1_000_000 + user)") {
                let slot = RecentSealedTempIDs.slot(of: grant.tempID)
                if distinct.count < 100, !taken.contains(slot) {
                    taken.insert(slot)
                    distinct.append(grant)
                } else if distinct.count == 100, pair.isEmpty, !taken.contains(slot) {
                    if let other = spare[slot] { pair = [other, grant] } else { spare[slot] = grant }
                }
            }
        }
        // And a TempID that opens to nothing, in a slot of its own.
        let pairSlot = RecentSealedTempIDs.slot(of: pair[0].tempID)
        let forged = try #require(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ".lazy.compactMap { TempID(String(repeating: $0, count: 80)) }.first {
                let slot = RecentSealedTempIDs.slot(of: $0)
                return !taken.contains(slot) && slot != pairSlot
            })
        let pool = distinct + pair
        var tempIDs: [TempID] = []
        for index in 0..<2_000 {
            tempIDs.append(pool[index % pool.count].tempID)
            if index % 7 == 6 { tempIDs.append(forged) }
        }
        let lookups = try await issuer.lookUp(tempIDs)

        let grantOf = Dictionary(uniqueKeysWithValues: pool.map { ($0.tempID, $0) })
        #expect(lookups.count == tempIDs.count)
        for (index, tempID) in tempIDs.enumerated() {
            let expected: TempIDLookup = grantOf[tempID].map { .issued($0) } ?? .undecryptable
            guard lookups[index] == expected else {
                Issue.record("entry \(index): \(lookups[index]), expected \(expected)")
                return
            }
        }
        // Under 4,096 entries: one part. Each of the hundred once, the forged one once, and each entry of the pair
        // again (each pushes the other out of their slot).
        let pairEntries = tempIDs.count { $0 == pair[0].tempID || $0 == pair[1].tempID }
        #expect(tempIDs.contains(forged))
        #expect(lookups.answerCount == 100 + pairEntries + 1)
    }

    @Test("A TempID sealed under a key another instance added traces here at once: the upload re-reads the file")
    func unknownKeyRereadsTheFile() async throws {
        let directory = try TestDirectory()
        let path = "\(directory.path)/keys.json"
        let (ring, _) = try KeyFile.loadOrCreate(path: path, now: Self.now)
        let first = KeyRingHolder(ring: ring, path: path)
        let second = KeyRingHolder(ring: ring, path: path)
        let (firstIssuer, secondIssuer) = (Self.issuer(first), Self.issuer(second))

        var rotated = ring
        rotated.rotate(at: Self.now)
        try KeyFile.save(rotated, to: path)
        #expect(try first.refresh() == .reloaded(currentKeyID: 2, keys: 2))
        let tempID = try #require(try await firstIssuer.issue(to: "+61410888888").first?.tempID)
        #expect(Data(base64Encoded: tempID.rawValue)?.first == 2)

        #expect(second.ring == ring, "the second instance has not looked at the file yet")
        let lookup = try await secondIssuer.lookUp([tempID])[0]
        guard case .issued(let grant) = lookup else {
            Issue.record("expected the TempID to open, got \(lookup)")
            return
        }
        #expect(grant.user == "+61410888888")
        #expect(second.ring == rotated)
        #expect(try second.refresh() == .unchanged, "read once, not again")
    }

    @Test("A TempID naming a key nobody has is undecryptable, and the ring stays as it was")
    func forgedKeyID() async throws {
        let directory = try TestDirectory()
        let path = "\(directory.path)/keys.json"
        let (ring, _) = try KeyFile.loadOrCreate(path: path, now: Self.now)
        let keys = KeyRingHolder(ring: ring, path: path)
        let sealed = try #require(try await Self.issuer(keys).issue(to: "+61410888888").first?.tempID)
        var bytes = try #require(Data(base64Encoded: sealed.rawValue))
        bytes[0] = 9
        let forged = try #require(TempID(bytes.base64EncodedString()))
        #expect(try await Self.issuer(keys).lookUp([forged])[0] == .undecryptable)
        #expect(keys.ring == ring)
    }

    @Test("A key file that has gone is written back from memory, so later instances share these keys")
    func restoresAMissingFile() throws {
        let directory = try TestDirectory()
        let path = "\(directory.path)/keys.json"
        let (ring, _) = try KeyFile.loadOrCreate(path: path, now: Self.now)
        let keys = KeyRingHolder(ring: ring, path: path)
        try FileManager.default.removeItem(atPath: path)
        #expect(try keys.refresh() == .restored)
        #expect(try KeyFile.load(path: path) == ring)
        #expect(try keys.refresh() == .unchanged)
    }

    @Test("A large sealed upload is opened in parts: repeats in both, forged ones, and a key added since all answer")
    func sealedInParts() async throws {
        let directory = try TestDirectory()
        let path = "\(directory.path)/keys.json"
        let (ring, _) = try KeyFile.loadOrCreate(path: path, now: Self.now)
        let issuing = KeyRingHolder(ring: ring, path: path)
        let tracing = KeyRingHolder(ring: ring, path: path)
        let old = try await Self.issuer(issuing, batchSize: 100).issue(to: "+61410000001")
        var rotated = ring
        rotated.rotate(at: Self.now)
        try KeyFile.save(rotated, to: path)
        #expect(try issuing.refresh() == .reloaded(currentKeyID: 2, keys: 2))
        let new = try await Self.issuer(issuing, batchSize: 100).issue(to: "+61410000002")
        #expect(Data(base64Encoded: new[0].tempID.rawValue)?.first == 2)
        var forgedBytes = try #require(Data(base64Encoded: old[0].tempID.rawValue))
        forgedBytes[forgedBytes.count - 1] ^= 1
        let forged = try #require(TempID(forgedBytes.base64EncodedString()))

        // 10,000 entries in two parts: the same TempIDs throughout, so each part meets each one many times.
        let grants = old + new
        let tempIDs = (0..<10_000).map { $0 % 201 == 200 ? forged : grants[$0 % 201 % grants.count].tempID }
        #expect(tracing.ring == ring, "the tracing instance has not read the rotation yet")
        let lookups = try await Self.issuer(tracing).lookUp(tempIDs)
        for (index, lookup) in lookups.enumerated() {
            let expected: TempIDLookup =
                index % 201 == 200 ? .undecryptable : .issued(grants[index % 201 % grants.count])
            guard lookup == expected else {
                Issue.record("entry \(index): \(lookup), expected \(expected)")
                return
            }
        }
        #expect(tracing.ring == rotated, "the upload made the tracing instance read the key file")
        // Each distinct TempID is answered once per part (a part per core), not once per entry; but one sharing its
        // slot of `RecentSealedTempIDs` with another of them is opened again at each of its entries.
        let slotOwners = Dictionary(grouping: Set(tempIDs), by: RecentSealedTempIDs.slot(of:))
        let crowded = tempIDs.count { slotOwners[RecentSealedTempIDs.slot(of: $0)]!.count > 1 }
        #expect(lookups.answerCount <= 201 * System.coreCount + crowded)
    }
}
