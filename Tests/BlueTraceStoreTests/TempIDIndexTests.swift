import BlueTraceDomain
import Testing

@testable import BlueTraceStore

private let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

private func decimal(_ number: UInt64) -> TempID { TempID(String(format: "%020llu", number))! }

private func grant(
    _ tempID: TempID, user: String = "+61410888888", start: Timestamp = t0, span: Int64 = 899
)
    -> TempIDGrant
{
    TempIDGrant(user: user, tempID: tempID, validity: ValidityWindow(start: start, expiry: start + span))
}

@Suite("TempID index")
struct TempIDIndexTests {
    @Test("Every inserted TempID is found with its mapping, across merges of the recent ones into the sorted part")
    func insertAndFind() {
        var index = TempIDIndex()
        // Enough to merge the hash table into the sorted arrays at least twice (it merges past 65,536).
        let count = 150_000
        var generator = SystemRandomNumberGenerator()
        var numbers = Set<UInt64>()
        while numbers.count < count { numbers.insert(UInt64.random(in: 0..<10_000_000_000_000_000, using: &generator)) }
        let grants = numbers.enumerated().map { position, number in
            grant(decimal(number), user: "+6141\(position % 1_000)", start: t0 + Int64(position))
        }
        for grant in grants { index.insert(grant) }
        #expect(index.count == count)
        #expect(grants.allSatisfy { index.grant(of: $0.tempID) == $0 })
        var absent = 0 as UInt64
        while numbers.contains(absent) { absent += 1 }
        #expect(index.grant(of: decimal(absent)) == nil)
        #expect(!index.contains(decimal(absent)))
    }

    @Test("TempIDs of other schemes, and windows that do not fit 32 bits, are kept apart and found too")
    func otherTempIDs() {
        var index = TempIDIndex()
        let sealed = grant(TempID("sealed-token-1")!)
        let backwards = grant(decimal(7), start: t0, span: -60)
        let long = grant(decimal(8), start: Timestamp(secondsSinceEpoch: 0), span: Int64(UInt32.max) + 1)
        let plain = grant(decimal(42))
        for grant in [sealed, backwards, long, plain] { index.insert(grant) }
        for grant in [sealed, backwards, long, plain] { #expect(index.grant(of: grant.tempID) == grant) }
        #expect(index.grant(of: TempID("12345678901234567890123")!) == nil, "23 digits is not a 20-digit TempID")
        index.remove([sealed.tempID, backwards.tempID])
        #expect(index.grant(of: sealed.tempID) == nil)
        #expect(index.grant(of: backwards.tempID) == nil)
        #expect(index.count == 2)
    }

    @Test("Removing forgets exactly the TempIDs named, recent or merged")
    func remove() {
        var index = TempIDIndex((0..<100_000).map { grant(decimal(UInt64($0) * 3), start: t0 + Int64($0)) })
        index.insert(grant(decimal(1)))
        index.remove([decimal(0), decimal(3), decimal(1), decimal(2)])
        #expect(index.grant(of: decimal(0)) == nil)
        #expect(index.grant(of: decimal(3)) == nil)
        #expect(index.grant(of: decimal(1)) == nil)
        #expect(index.grant(of: decimal(6)) == grant(decimal(6), start: t0 + 2))
        #expect(index.grant(of: decimal(299_997)) == grant(decimal(299_997), start: t0 + 99_999))
        #expect(index.count == 99_998)
    }

    @Test("Built from stored rows, the first mapping of a TempID stored twice wins")
    func buildFromRows() {
        let index = TempIDIndex([
            grant(decimal(5), user: "first"), grant(decimal(1)), grant(decimal(5), user: "second"),
            grant(decimal(3)),
        ])
        #expect(index.grant(of: decimal(5))?.user == "first")
        #expect(index.grant(of: decimal(1)) != nil)
        #expect(index.grant(of: decimal(3)) != nil)
        #expect(index.count == 3)
    }
}
