import BlueTraceDomain
import Testing

@testable import BlueTraceStore

@Suite("Upload record")
struct UploadRecordTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

    /// A small generator with a fixed seed (SplitMix64), so that every run builds the same upload.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// An upload of every kind of entry: contacts heard again and again (one through more than 64 TempIDs, so that
    /// its list is kept with a set), through 20-digit and sealed-length TempIDs, out of order in time; entries that
    /// did not trace; malformed ones.
    static func encounters(count: Int) -> [StoredEncounter] {
        var random = SeededGenerator(state: 42)
        return (0..<count).map { index in
            // Contact 0, heard in half the entries, through 100 TempIDs; 39 others through 5 each.
            let contact = Bool.random(using: &random) ? 0 : Int.random(in: 1..<40, using: &random)
            let tempIDNumber = Int.random(in: 0..<(contact == 0 ? 100 : 5), using: &random)
            let digits = String(contact * 1_000 + tempIDNumber)
            let tempID =
                contact % 3 == 1
                ? String(repeating: "s", count: 76) + String(repeating: "0", count: 4 - min(4, digits.count)) + digits
                : String(repeating: "0", count: 20 - digits.count) + digits
            let start = t0 + Int64(tempIDNumber) * 900
            let validity = ValidityWindow(start: start, expiry: start + 899)
            let heardAt = start + Int64.random(in: 0..<900, using: &random)
            switch Int.random(in: 0..<20, using: &random) {
            case 0:
                return StoredEncounter(
                    tempID: nil, validity: nil, heardAt: nil, contact: nil, unmatchedReason: .malformed,
                    detail: "entry \(index) is not an object")
            case 1:
                return StoredEncounter(
                    tempID: tempID, validity: validity, heardAt: heardAt, contact: nil, unmatchedReason: .unknownID)
            default:
                return StoredEncounter(
                    tempID: tempID, validity: validity, heardAt: heardAt, contact: "+614100000\(contact)",
                    unmatchedReason: nil)
            }
        }
    }

    @Test(
        "A record built in parts and joined is the record built whole: the same block, contacts and counts",
        arguments: [[1], [2_000], [1, 2_999], [700, 1_400, 2_100], [1_500, 1_500, 2_999]])
    func partsJoinAsWhole(cuts: [Int]) throws {
        let encounters = Self.encounters(count: 3_000)
        let whole = UploadRecord(uploader: "+61410999999", receivedAt: Self.t0, encounters: encounters)
        let bounds = [0] + cuts + [encounters.count]
        // Parts joined as they are, and parts whose TempID lists were sorted first (as the server's are: then the
        // lists are merged instead of sorted at the end).
        for sortingParts in [false, true] {
            var joined: UploadRecord.Builder?
            for (part, (from, to)) in zip(bounds, bounds.dropFirst()).enumerated() {
                var builder = UploadRecord.Builder(
                    uploader: "+61410999999", receivedAt: Self.t0, expectedEntries: to - from, isPart: part > 0)
                for encounter in encounters[from..<to] { builder.append(encounter) }
                if sortingParts { builder.sortTempIDs() }
                if joined == nil { joined = builder } else { joined?.append(contentsOf: builder) }
            }
            let record = try #require(joined).finish()
            #expect(record == whole, "sorting parts first: \(sortingParts)")
            #expect(record.block == whole.block)
            #expect(record.tracedContacts.first { $0.phone == "+6141000000" }?.tempIDs.count == 100)
            #expect(record.encounters == encounters, "the joined block reads back as the upload")
        }
    }

    @Test("Each traced contact is counted as by hand: first and last encounter, encounters, each TempID once, sorted")
    func contactsCountedAsByHand() {
        // Contact 0 is named in runs (consecutive entries) and between other contacts, so both the run's shortcut
        // and the lookup by number are taken.
        let encounters = Self.encounters(count: 3_000)
        let record = UploadRecord(uploader: "+61410999999", receivedAt: Self.t0, encounters: encounters)
        #expect(record.tracedContacts == Self.contactsByHand(encounters))
        #expect(record.matchedCount == encounters.filter { $0.contact != nil }.count)
    }

    @Test("Two contacts heard through the same many TempIDs each list every one of them")
    func sharedTempIDsListedForEach() {
        // Two phones, each heard through the same 100 TempIDs, entries alternating between them: a TempID listed for
        // one is still to be listed for the other.
        let tempIDs = (0..<100).map { String(10_000_000_000_000_000_000 as UInt64 + UInt64($0)) }
        let encounters = (0..<1_000).map { index in
            let start = Self.t0 + Int64(index % 100) * 900
            return StoredEncounter(
                tempID: tempIDs[index / 2 % 100], validity: ValidityWindow(start: start, expiry: start + 899),
                heardAt: start + 1, contact: index % 2 == 0 ? "+61410000001" : "+61410000002", unmatchedReason: nil)
        }
        let record = UploadRecord(uploader: "+61410999999", receivedAt: Self.t0, encounters: encounters)
        #expect(record.tracedContacts.map { $0.tempIDs.map(\.rawValue) } == [tempIDs, tempIDs])
        #expect(record.tracedContacts == Self.contactsByHand(encounters))
    }

    /// The traced contacts of `encounters`, counted one by one, in the order they were first named.
    static func contactsByHand(_ encounters: [StoredEncounter]) -> [TracedContact] {
        var order: [String] = []
        var byPhone: [String: TracedContact] = [:]
        for encounter in encounters {
            guard let phone = encounter.contact else { continue }
            let when = encounter.heardAt ?? encounter.validity?.start ?? Self.t0
            var contact =
                byPhone[phone]
                ?? TracedContact(phone: phone, firstEncounter: when, lastEncounter: when, encounters: 0, tempIDs: [])
            if byPhone[phone] == nil { order.append(phone) }
            contact.firstEncounter = min(contact.firstEncounter, when)
            contact.lastEncounter = max(contact.lastEncounter, when)
            contact.encounters += 1
            if let tempID = encounter.validTempID { contact.tempIDs = Array(Set(contact.tempIDs + [tempID])).sorted() }
            byPhone[phone] = contact
        }
        return order.map { byPhone[$0]! }
    }
}
