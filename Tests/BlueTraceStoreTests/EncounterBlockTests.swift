import BlueTraceDomain
import Testing

@testable import BlueTraceStore

@Suite("Encounter block")
struct EncounterBlockTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

    static let encounters = [
        StoredEncounter(
            tempID: "11111111111111111111", validity: ValidityWindow(start: t0, expiry: t0 + 899), heardAt: t0 + 5,
            contact: "+61410888888", unmatchedReason: nil),
        StoredEncounter(
            tempID: "22222222222222222222", validity: ValidityWindow(start: t0, expiry: t0 + 899), heardAt: nil,
            contact: "+61410777777", unmatchedReason: nil),
        StoredEncounter(
            tempID: "11111111111111111111", validity: ValidityWindow(start: t0, expiry: t0 + 899), heardAt: t0 + 1,
            contact: "+61410888888", unmatchedReason: nil),
        StoredEncounter(
            tempID: "sealed/токен", validity: ValidityWindow(start: t0 - 10, expiry: t0), heardAt: t0 + 2_000,
            contact: nil, unmatchedReason: .expiredID),
        StoredEncounter(
            tempID: nil, validity: nil, heardAt: nil, contact: nil, unmatchedReason: .malformed,
            detail: "entry is not a JSON object: \"x\""),
        StoredEncounter(
            tempID: "x", validity: ValidityWindow(start: Timestamp(secondsSinceEpoch: -5), expiry: t0),
            heardAt: Timestamp(secondsSinceEpoch: Int64.max), contact: nil, unmatchedReason: .unknownID),
        // Padded base64 (kept as the bytes it encodes): a sealed TempID's 80 characters, and four; then "AB==", which
        // is not canonical (bits set that its padding leaves out) and so is kept as text.
        StoredEncounter(
            tempID: ContactBlockTests.sealedLike(7), validity: ValidityWindow(start: t0, expiry: t0 + 899),
            heardAt: t0 + 3, contact: "+61410888888", unmatchedReason: nil),
        StoredEncounter(
            tempID: "AAAA", validity: nil, heardAt: nil, contact: nil, unmatchedReason: .failedDecryption),
        StoredEncounter(
            tempID: "AB==", validity: nil, heardAt: t0, contact: nil, unmatchedReason: .malformed, detail: "bad"),
    ]

    @Test("Every entry reads back exactly as written: each optional field, each verdict, non-ASCII text, extreme times")
    func roundTrip() throws {
        let all =
            Self.encounters
            + UnmatchedReason.allCases.map {
                StoredEncounter(tempID: "9", validity: nil, heardAt: nil, contact: nil, unmatchedReason: $0)
            }
        #expect(try EncounterBlock.encounters(in: EncounterBlock(all).bytes) == all)
        #expect(try EncounterBlock.encounters(in: EncounterBlock([]).bytes) == [])
    }

    @Test("A contact traced many times is written once")
    func contactsOnce() {
        let one = EncounterBlock(Array(Self.encounters.prefix(1))).bytes.count
        let many = EncounterBlock(Array(repeating: Self.encounters[0], count: 101)).bytes.count
        #expect(
            many - one == 100 * (2 + 16 + 8 + 4 + 4 + 4),
            "each repeat: flags and verdict, the TempID's halves, start, expiry and heard-at, a contact number")
    }

    @Test("A sealed TempID is written as the 58 bytes it encodes: a traced entry takes 81 bytes, not 104")
    func compactSealed() throws {
        let sealed = try #require(Self.encounters.first { $0.tempID?.utf8.count == 80 })
        let one = EncounterBlock([sealed]).bytes
        // The magic and the count (8), the entry, the contact list: its count (4) and one phone (2 + 12).
        #expect(one.count == 8 + 81 + 4 + 14)
        #expect(try EncounterBlock.encounters(in: one) == [sealed])
    }

    @Test("Times that do not fit the compact forms are written whole: an expiry before its start, far from its start")
    func wideTimes() throws {
        let wide = [
            StoredEncounter(
                tempID: "33333333333333333333", validity: ValidityWindow(start: Self.t0, expiry: Self.t0 - 1),
                heardAt: Self.t0 - 3_000_000_000, contact: nil, unmatchedReason: .timeMismatch),
            StoredEncounter(
                tempID: "44444444444444444444",
                validity: ValidityWindow(start: Self.t0, expiry: Self.t0 + 5_000_000_000), heardAt: Self.t0 - 7,
                contact: "+61410888888", unmatchedReason: nil),
            StoredEncounter(
                tempID: "0000000000000000000a", validity: nil, heardAt: Self.t0, contact: nil,
                unmatchedReason: .unknownID),
        ]
        #expect(try EncounterBlock.encounters(in: EncounterBlock(wide).bytes) == wide)
    }

    /// A block as version 1 wrote it: one traced entry, every field whole.
    static func firstVersionBlock(flags: UInt8 = 15) -> [UInt8] {
        func little<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
            withUnsafeBytes(of: value.littleEndian) { Array($0) }
        }
        return Array("BTE1".utf8) + little(UInt32(1)) + little(UInt16(12)) + Array("+61410888888".utf8)
            + little(UInt32(1)) + [flags, 0] + little(UInt16(20)) + Array("11111111111111111111".utf8)
            + little(UInt64(t0.secondsSinceEpoch)) + little(UInt64(t0.secondsSinceEpoch + 899))
            + little(UInt64(t0.secondsSinceEpoch + 5)) + little(UInt32(0))
    }

    @Test("A block written by version 1 (uploads stored before version 2) still reads back")
    func firstVersion() throws {
        #expect(try EncounterBlock.encounters(in: Self.firstVersionBlock()) == [Self.encounters[0]])
        // Version 1 never wrote the compact forms' flags: a block that has them is damaged.
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: Self.firstVersionBlock(flags: 15 | 32)) }
    }

    @Test("Damaged bytes are refused, never misread: wrong magic, cut short, trailing bytes, a contact out of range")
    func corrupt() {
        let bytes = EncounterBlock(Self.encounters).bytes
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: wrongMagic) }
        for cut in [1, 5, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: Array(bytes.prefix(cut))) }
        }
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: bytes + [0]) }
        // One traced entry naming contact number 7 of a list of one.
        var badContact = EncounterBlock(Array(Self.encounters.prefix(1))).bytes
        // The magic and the entry count (8 bytes), then the entry's 38: its contact number is its last 4.
        badContact[8 + 38 - 4] = 7
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: badContact) }
        // A 20-digit TempID's first half past ten digits (it starts after the flags and verdict bytes).
        var badHalf = EncounterBlock(Array(Self.encounters.prefix(1))).bytes
        badHalf[8 + 2 + 7] = 0xFF
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: badHalf) }
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: []) }
    }
}
