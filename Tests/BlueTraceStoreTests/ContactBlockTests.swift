import BlueTraceDomain
import Testing

@testable import BlueTraceStore

@Suite("Contact block")
struct ContactBlockTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

    static let contacts = [
        TracedContact(
            phone: "+61410888888", firstEncounter: t0, lastEncounter: t0 + 899, encounters: 3,
            tempIDs: ["00000000000000000001", "11111111111111111111", "99999999999999999999"].map { TempID($0)! }),
        TracedContact(
            phone: "+61410777777", firstEncounter: t0 - 86_400, lastEncounter: t0, encounters: 1, tempIDs: []),
        TracedContact(
            phone: "телефон", firstEncounter: Timestamp(secondsSinceEpoch: Int64.min),
            lastEncounter: Timestamp(secondsSinceEpoch: Int64.max), encounters: Int.max,
            tempIDs: [
                "sealed/AAAA+token==", "123", "1234567890123456789012", "11111111111111111111", "AAAA", "AB==",
                sealedLike(1),
            ].map { TempID($0)! }),
    ]

    /// An 80-character padded base64 text, as a sealed TempID is (58 bytes from `seed`).
    static func sealedLike(_ seed: Int) -> String {
        Base64.encodePadded((0..<58).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) })
    }

    @Test("Every contact reads back exactly as written: 20-digit and other TempIDs, extreme times and counts")
    func roundTrip() throws {
        #expect(try ContactBlock.contacts(in: ContactBlock(Self.contacts).bytes) == Self.contacts)
        #expect(try ContactBlock.contacts(in: ContactBlock([]).bytes).isEmpty)
    }

    @Test("A 20-digit TempID takes 17 bytes, not its 21 bytes of text")
    func compact() {
        let one = ContactBlock([Self.contacts[1]]).bytes.count
        var heard = Self.contacts[1]
        heard.tempIDs = (0..<10).map { TempID(String(format: "%020d", $0 * 7_919))! }
        #expect(ContactBlock([heard]).bytes.count == one + 10 * 17)
    }

    @Test("A sealed TempID takes the 58 bytes it encodes and two more, not its 83 bytes of text")
    func compactSealed() throws {
        let one = ContactBlock([Self.contacts[1]]).bytes.count
        var heard = Self.contacts[1]
        heard.tempIDs = (0..<10).map { TempID(Self.sealedLike($0))! }
        #expect(heard.tempIDs.allSatisfy { $0.rawValue.utf8.count == 80 })
        let bytes = ContactBlock([heard]).bytes
        #expect(bytes.count == one + 10 * 60)
        #expect(try ContactBlock.contacts(in: bytes) == [heard])
    }

    @Test("Contacts are cut into parts of about the size asked: in order, none left out, none empty, none cut")
    func parts() {
        let contacts = (0..<50).map { number in
            TracedContact(
                phone: "+614100000\(number)", firstEncounter: Self.t0, lastEncounter: Self.t0, encounters: 1,
                tempIDs: (0..<(number % 7)).map { TempID(String(format: "%020d", number * 10 + $0))! })
        }
        for bytes in [1, 100, 500, 1_000_000] {
            let parts = ContactBlock.parts(of: contacts, bytes: bytes)
            #expect(parts.flatMap { Array($0) } == Array(contacts.indices), "\(bytes) bytes")
            #expect(parts.allSatisfy { !$0.isEmpty })
            // Every part but the last reaches the size, and is no larger than it needs to be to reach it.
            for part in parts.dropLast() {
                #expect(ContactBlock(contacts[part]).bytes.count - 8 >= bytes)
                #expect(ContactBlock(contacts[part.dropLast()]).bytes.count - 8 < bytes)
            }
        }
        #expect(ContactBlock.parts(of: contacts, bytes: 1).count == 50)
        #expect(ContactBlock.parts(of: contacts, bytes: 1_000_000) == [0..<50])
        #expect(ContactBlock.parts(of: [], bytes: 100).isEmpty)
    }

    @Test("Damaged bytes are refused, never misread: wrong magic, cut short, trailing bytes, a bad tag or half")
    func corrupt() {
        let bytes = ContactBlock(Self.contacts).bytes
        var wrongMagic = bytes
        wrongMagic[3] = UInt8(ascii: "9")
        #expect(throws: CorruptBlock.self) { try ContactBlock.contacts(in: wrongMagic) }
        for cut in [0, 3, 7, 9, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CorruptBlock.self) { try ContactBlock.contacts(in: Array(bytes.prefix(cut))) }
        }
        #expect(throws: CorruptBlock.self) { try ContactBlock.contacts(in: bytes + [0]) }
        // The first contact's first TempID: after the magic and count (8), the phone (2 + 12), the times and count
        // (24) and the number of TempIDs (4), its tag, then its first half.
        let tag = 8 + 14 + 24 + 4
        var badTag = bytes
        badTag[tag] = 3
        #expect(throws: CorruptBlock.self) { try ContactBlock.contacts(in: badTag) }
        var badHalf = bytes
        badHalf[tag + 1 + 7] = 0xFF
        #expect(throws: CorruptBlock.self) { try ContactBlock.contacts(in: badHalf) }
        // A count of encounters past `Int.max`.
        var badCount = ContactBlock([Self.contacts[1]]).bytes
        badCount[8 + 14 + 16 + 7] = 0x80
        #expect(throws: CorruptBlock.self) { try ContactBlock.contacts(in: badCount) }
    }
}
