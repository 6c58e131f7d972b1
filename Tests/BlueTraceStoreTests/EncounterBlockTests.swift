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
            many - one == 100 * (2 + 22 + 16 + 8 + 4), "each repeat costs its own fields and a 4-byte contact number")
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
        badContact[badContact.count - 4] = 7
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: badContact) }
        #expect(throws: CorruptBlock.self) { try EncounterBlock.encounters(in: []) }
    }
}
