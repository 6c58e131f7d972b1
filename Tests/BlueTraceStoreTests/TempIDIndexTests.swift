import BlueTraceDomain
import Testing

@testable import BlueTraceStore

private func decimal(_ number: UInt64) -> TempID { TempID(String(format: "%020llu", number))! }

@Suite("TempID index")
struct TempIDIndexTests {
    @Test("Every inserted TempID is found with its row, across merges of the recent ones into the sorted part")
    func insertAndFind() {
        var index = TempIDIndex()
        // Enough to merge the hash table into the sorted arrays at least twice (it merges past 65,536).
        let count = 150_000
        var generator = SystemRandomNumberGenerator()
        var numbers = Set<UInt64>()
        while numbers.count < count { numbers.insert(UInt64.random(in: 0..<10_000_000_000_000_000, using: &generator)) }
        let tempIDs = numbers.map(decimal)
        for (row, tempID) in tempIDs.enumerated() { index.insert(tempID, row: Int64(row)) }
        #expect(index.count == count)
        for (row, tempID) in tempIDs.enumerated() where row % 97 == 0 { #expect(index.row(of: tempID) == Int64(row)) }
        #expect(tempIDs.allSatisfy { index.row(of: $0) != nil })
        var absent = 0 as UInt64
        while numbers.contains(absent) { absent += 1 }
        #expect(index.row(of: decimal(absent)) == nil)
    }

    @Test("TempIDs of other schemes are kept apart and found too")
    func otherTempIDs() {
        var index = TempIDIndex()
        index.insert(TempID("sealed-token-1")!, row: 7)
        index.insert(decimal(42), row: 8)
        #expect(index.row(of: TempID("sealed-token-1")!) == 7)
        #expect(index.row(of: decimal(42)) == 8)
        #expect(index.row(of: TempID("12345678901234567890123")!) == nil, "23 digits is not a 20-digit TempID")
        index.remove([TempID("sealed-token-1")!])
        #expect(index.row(of: TempID("sealed-token-1")!) == nil)
        #expect(index.count == 1)
    }

    @Test("Removing forgets exactly the TempIDs named, recent or merged")
    func remove() {
        var index = TempIDIndex(
            keys: (0..<100_000).map { TempIDIndex.Key(high: 0, low: UInt64($0) * 3) },
            rows: (0..<100_000).map(Int64.init), others: [:])
        index.insert(decimal(1), row: 100_000)
        index.remove([decimal(0), decimal(3), decimal(1), decimal(2)])
        #expect(index.row(of: decimal(0)) == nil)
        #expect(index.row(of: decimal(3)) == nil)
        #expect(index.row(of: decimal(1)) == nil)
        #expect(index.row(of: decimal(6)) == 2)
        #expect(index.row(of: decimal(299_997)) == 99_999)
        #expect(index.count == 99_998)
    }

    @Test("Built from rows in any order, the first row of a TempID stored twice wins")
    func buildFromRows() {
        let keys = [5, 1, 5, 3].map { TempIDIndex.Key(high: 0, low: UInt64($0)) }
        let index = TempIDIndex(keys: keys, rows: [10, 11, 12, 13], others: [:])
        #expect(index.row(of: decimal(5)) == 10)
        #expect(index.row(of: decimal(1)) == 11)
        #expect(index.row(of: decimal(3)) == 13)
        #expect(index.count == 3)
    }
}
