import BlueTraceDomain
import Testing

@testable import BlueTraceStore

private let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

private func grant(_ text: String, user: String, start: Timestamp = t0, span: Int64 = 899) -> TempIDGrant {
    TempIDGrant(user: user, tempID: TempID(text)!, validity: ValidityWindow(start: start, expiry: start + span))
}

/// Every block `encode` writes for `grants` (all new), and what it leaves new.
private func blocks(of grants: [TempIDGrant]) -> (blocks: [TempIDBlock], isNew: [Bool]) {
    var isNew = [Bool](repeating: true, count: grants.count)
    var blocks: [TempIDBlock] = []
    TempIDBlock.encode(grants, where: &isNew) { blocks.append($0) }
    return (blocks, isNew)
}

private func decoded(_ block: TempIDBlock) throws -> [TempIDGrant] {
    try block.bytes.withUnsafeBytes { try TempIDBlock.grants(in: $0) }
}

@Suite("TempID block")
struct TempIDBlockTests {
    /// A batch with repeats of every kind: a 20-digit TempID twice, a window that does not fit before and after the
    /// same TempID with one that does, and a TempID of another scheme twice.
    static let batch = [
        grant("33333333333333333333", user: "+61410000003"),
        grant("11111111111111111111", user: "+61410000001"),
        grant("33333333333333333333", user: "+61410000009"),
        grant("44444444444444444444", user: "+61410000004", span: -5),
        grant("44444444444444444444", user: "+61410000009"),
        grant("55555555555555555555", user: "+61410000005"),
        grant("55555555555555555555", user: "+61410000009", span: 1 << 33),
        grant("sealed+AAA=", user: "+61410000006"),
        grant("sealed+AAA=", user: "+61410000009"),
        grant("22222222222222222222", user: "+61410000003", start: t0 + 900),
    ]

    @Test("A batch's block keeps the first mapping of each TempID, the 20-digit ones in order, and reads back exactly")
    func roundTrip() throws {
        let (written, isNew) = blocks(of: Self.batch)
        #expect(isNew == [true, true, false, true, false, true, false, true, false, true])
        let block = try #require(written.first)
        #expect(written.count == 1)
        #expect(block.count == 6)
        #expect(block.expiries == (t0.secondsSinceEpoch - 5)...(t0.secondsSinceEpoch + 900 + 899))
        let read = try decoded(block)
        #expect(Set(read) == Set(Self.batch.indices.filter { isNew[$0] }.map { Self.batch[$0] }))
        #expect(
            read.prefix(4).map(\.tempID.rawValue) == [
                "11111111111111111111", "22222222222222222222", "33333333333333333333", "55555555555555555555",
            ], "the 20-digit TempIDs whose windows fit come first, in ascending order")
        #expect(
            try block.bytes.withUnsafeBytes { try TempIDBlock.tempIDs(in: $0) }
                == read.map(\.tempID))
    }

    @Test("Positions marked not new are left out, and a batch of nothing new writes no block")
    func onlyTheNew() throws {
        var isNew = [false, true] + [Bool](repeating: false, count: Self.batch.count - 2)
        var written: [TempIDBlock] = []
        TempIDBlock.encode(Self.batch, where: &isNew) { written.append($0) }
        #expect(try written.flatMap(decoded) == [Self.batch[1]])
        var none = [Bool](repeating: false, count: Self.batch.count)
        TempIDBlock.encode(Self.batch, where: &none) { written.append($0) }
        #expect(written.count == 1)
    }

    @Test("More than a block's capacity is cut into full blocks and one for the rest, none lost")
    func cutIntoBlocks() throws {
        let count = TempIDBlock.capacity + 1_000
        let grants =
            (0..<count).map {
                grant(String(format: "%020d", ($0 &* 7_919) % count), user: "+6141\($0 % 13)", start: t0 + Int64($0))
            } + [grant("sealed+BBB=", user: "+61410000006")]
        let (written, isNew) = blocks(of: grants)
        #expect(isNew.allSatisfy { $0 })
        #expect(written.map(\.count) == [TempIDBlock.capacity, 1_001], "the other TempID goes with the last block")
        let read = try written.flatMap(decoded)
        #expect(read.count == grants.count)
        #expect(Set(read) == Set(grants))
    }

    @Test("Loaded into an index, a block's mappings are found as the grants themselves would be")
    func loadsIntoAnIndex() throws {
        let (written, isNew) = blocks(of: Self.batch)
        var loader = TempIDIndex.Loader()
        for block in written {
            try block.bytes.withUnsafeBytes { try TempIDBlock.load($0, into: &loader) }
        }
        let index = loader.finish()
        #expect(index.count == 6)
        for (position, grant) in Self.batch.enumerated() where isNew[position] {
            #expect(index.grant(of: grant.tempID) == grant)
        }
    }

    @Test("Damaged bytes are refused, never misread: wrong magic, cut short, trailing bytes, a bad user or half")
    func corrupt() throws {
        let bytes = try #require(blocks(of: Self.batch).blocks.first).bytes
        func refused(_ bytes: [UInt8]) -> Bool {
            (try? bytes.withUnsafeBytes { try TempIDBlock.grants(in: $0) }) == nil
        }
        #expect(!refused(bytes))
        var wrongMagic = bytes
        wrongMagic[3] = UInt8(ascii: "9")
        #expect(refused(wrongMagic))
        for cut in [0, 3, 7, 9, bytes.count / 2, bytes.count - 1] { #expect(refused(Array(bytes.prefix(cut)))) }
        #expect(refused(bytes + [0]))
        // The users: magic and count (8), then five names of 12 characters (5 × 14); then the count of 20-digit
        // TempIDs (4) and the first record: its halves, its start and span, then its user.
        let record = 8 + 5 * 14 + 4
        var badUser = bytes
        badUser[record + 31] = 0xFF
        #expect(refused(badUser))
        var badHalf = bytes
        badHalf[record + 7] = 0xFF
        #expect(refused(badHalf))
    }
}
