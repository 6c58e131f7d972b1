import BlueTraceDomain
import BlueTraceStore
import Testing

@testable import BlueTraceAuthority

/// A generator rigged to repeat itself: each word of `words` is returned `count` times, then the next, and so on;
/// a constant word makes every TempID drawn from it the same (one word per half of 10 digits).
struct RepeatingGenerator: RandomNumberGenerator, Sendable {
    var words: [UInt64]
    var count: Int
    private var position = 0

    init(words: [UInt64], count: Int) {
        self.words = words
        self.count = count
    }

    mutating func next() -> UInt64 {
        defer { position += 1 }
        return words[min(position / count, words.count - 1)]
    }
}

/// The rule that a 20-digit TempID is never issued twice, whatever the random numbers: the store refuses a repeat and
/// the issuer draws again.
@Suite("TempID issuer")
struct TempIDIssuerTests {
    static let start = Timestamp(secondsSinceEpoch: 1_589_391_906)
    /// Three draws of the same TempID, then three of another, then a third forever.
    static func rigged() -> RepeatingGenerator {
        RepeatingGenerator(words: [0x5555_5555_5555_5555, 0xB6DB_6DB6_DB6D_B6DB, 0x1234_5678_9ABC_DEF0], count: 3 * 2)
    }

    static func issuer(
        _ store: any AuthorityStore, at time: Timestamp = start, random: RepeatingGenerator = rigged()
    ) -> TempIDIssuer {
        TempIDIssuer(
            scheme: .decimal, policy: TempIDPolicy(), sealedBatchSize: 1, store: store, keys: nil,
            clock: ManualWallClock(time), random: random)
    }

    @Test("The generator really repeats (or the tests below prove nothing)")
    func riggedGeneratorRepeats() {
        var generator = Self.rigged()
        let draws = (0..<7).map { _ in TempID.randomDecimal(using: &generator) }
        #expect(Set(draws[0..<3]).count == 1)
        #expect(Set(draws[3..<6]).count == 1)
        #expect(Set([draws[0], draws[3], draws[6]]).count == 3)
    }

    @Test("Issued TempIDs never repeat, even when the random numbers do", arguments: [false, true])
    func neverRepeats(sqlite: Bool) async throws {
        let store: any AuthorityStore = sqlite ? try SQLiteStore() : InMemoryStore()
        let issuer = Self.issuer(store)
        var reference = Self.rigged()
        let draws = (0..<7).map { _ in TempID.randomDecimal(using: &reference) }

        let users = ["+61410666666", "+61410777777", "+61410888888"]
        var grants: [TempIDGrant] = []
        for user in users { grants += try await issuer.issue(to: user) }
        #expect(grants.map(\.tempID) == [draws[0], draws[3], draws[6]])
        #expect(grants.map(\.user) == users)
        let stored = try await store.grants(for: grants.map(\.tempID))
        for grant in grants { #expect(stored[grant.tempID] == grant) }
    }

    @Test("A TempID imported from tempIDs.txt is never issued to anyone else")
    func avoidsImportedTempIDs() async throws {
        let store = try SQLiteStore()
        var reference = Self.rigged()
        let wouldBeDrawn = TempID.randomDecimal(using: &reference)
        let imported = TempIDGrant(
            user: "+61410999999", tempID: wouldBeDrawn, validity: TempIDPolicy().validity(issuedAt: Self.start))
        #expect(try await store.importTempIDs([imported], at: Self.start) == 1)

        let issued = try await Self.issuer(store, at: Self.start + 60).issue(to: "+61410888888")
        #expect(issued.first?.tempID != wouldBeDrawn)
        #expect(try await store.grants(for: [wouldBeDrawn])[wouldBeDrawn] == imported)
    }

    @Test(
        "An upload's repeated TempIDs are looked up once each, and every entry gets its own TempID's answer",
        arguments: [false, true])
    func repeatsLookedUpOnce(sqlite: Bool) async throws {
        let store: any AuthorityStore = sqlite ? try SQLiteStore() : InMemoryStore()
        let slot = { (tempID: TempID) in RecentTempIDs.slot(of: tempID.decimalHalves!) }
        // 100 TempIDs in slots of their own, then two that share a slot none of them has.
        var random = SystemRandomNumberGenerator()
        var distinct: [TempID] = []
        var byTaken: [Int: TempID] = [:]
        while distinct.count < 100 {
            let tempID = TempID.randomDecimal(using: &random)
            if byTaken[slot(tempID)] == nil {
                byTaken[slot(tempID)] = tempID
                distinct.append(tempID)
            }
        }
        var spare: [Int: TempID] = [:]
        var pair: [TempID] = []
        while pair.isEmpty {
            let tempID = TempID.randomDecimal(using: &random)
            guard byTaken[slot(tempID)] == nil else { continue }
            if let other = spare[slot(tempID)], other != tempID {
                pair = [other, tempID]
            } else {
                spare[slot(tempID)] = tempID
            }
        }
        #expect(slot(pair[0]) == slot(pair[1]))
        // All but the first ten are issued (the ten are unknown to the store).
        let validity = TempIDPolicy().validity(issuedAt: Self.start)
        let issued = (distinct[10...] + pair).enumerated().map { number, tempID in
            TempIDGrant(user: "+6141\(String(1_000_000 + number))", tempID: tempID, validity: validity)
        }
        #expect(try await store.importTempIDs(Array(issued), at: Self.start) == issued.count)
        let grantOf = Dictionary(uniqueKeysWithValues: issued.map { ($0.tempID, $0) })

        // The pool over and over, and after every seventh entry one naming a TempID that is not of the 20-digit scheme
        // (no keys: unknown, all of them one answer).
        let notDecimal = try #require(TempID("not-a-20-digit-tempid"))
        let pool = distinct + pair
        var tempIDs: [TempID] = []
        for index in 0..<20_000 {
            tempIDs.append(pool[index % pool.count])
            if index % 7 == 6 { tempIDs.append(notDecimal) }
        }
        let lookups = try await Self.issuer(store).lookUp(tempIDs)

        #expect(lookups.count == tempIDs.count)
        for (index, tempID) in tempIDs.enumerated() {
            let expected: TempIDLookup = grantOf[tempID].map { .issued($0) } ?? .unknown
            guard lookups[index] == expected else {
                Issue.record("entry \(index) (\(tempID)): \(lookups[index]), expected \(expected)")
                return
            }
        }
        // Each of the hundred once; each entry of the pair again (each pushes the other out of their slot); one for
        // all the entries not of the scheme.
        let pairEntries = tempIDs.count { pair.contains($0) }
        #expect(tempIDs.contains(notDecimal))
        #expect(lookups.answerCount == 100 + pairEntries + 1)
    }
}
