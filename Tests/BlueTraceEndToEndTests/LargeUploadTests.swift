import BlueTraceDomain
import BlueTraceServer
import BlueTraceStore
import Foundation
import Testing

@testable import BlueTraceAuthority

/// Uploads large enough to be traced in parts side by side, one per core: each verdict and the stored record must be
/// exactly what judging them one by one gives.
@Suite("Large uploads")
struct LargeUploadTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

    static func grant(_ index: Int) -> TempIDGrant {
        let digits = String(index)
        let start = t0 + Int64(index % 10) * 900
        return TempIDGrant(
            user: "+61410000" + String(index % 50 + 100),
            tempID: TempID(String(repeating: "0", count: 20 - digits.count) + digits)!,
            validity: ValidityWindow(start: start, expiry: start + 899))
    }

    @Test("A 20-digit upload judged in parts stores the record, verdicts and contacts of a judgment entry by entry")
    func decimalInParts() async throws {
        let store = InMemoryStore()
        let authority = try await ServerApplication.open(
            configuration: ServerConfiguration(
                port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: nil, databasePath: nil,
                keyFilePath: nil, passwordParameters: .simulation),
            store: store, logger: quietLogger
        ).authority
        _ = await store.importTempIDs((0..<1_000).map(Self.grant), at: Self.t0)

        let count = HealthAuthority.entriesJudgedInParts + 4_464
        var entries: [UploadEntry] = []
        var expected: [StoredEncounter] = []
        var unmatchedIndices: [Int] = []
        for index in 0..<count {
            let grant = Self.grant(index &* 7 % 1_000)
            let heard = grant.validity.start + 5
            if index % 97 == 0 {
                entries.append(.malformed(tempID: "bad \(index)", reason: "not 20 digits"))
                expected.append(
                    StoredEncounter(
                        tempID: "bad \(index)", validity: nil, heardAt: nil, contact: nil, unmatchedReason: .malformed,
                        detail: "not 20 digits"))
                unmatchedIndices.append(index)
            } else if index % 89 == 0 {
                let unknown = TempID("99999999999999\(String(100_000 + index % 900_000).suffix(6))")!
                entries.append(
                    .encounter(ReportedEncounter(tempID: unknown, validity: grant.validity, receivedAt: heard)))
                expected.append(
                    StoredEncounter(
                        tempID: unknown.rawValue, validity: grant.validity, heardAt: heard, contact: nil,
                        unmatchedReason: .unknownID))
                unmatchedIndices.append(index)
            } else if index % 83 == 0 {
                let claimed = ValidityWindow(start: grant.validity.start + 1, expiry: grant.validity.expiry)
                entries.append(
                    .encounter(ReportedEncounter(tempID: grant.tempID, validity: claimed, receivedAt: heard)))
                expected.append(
                    StoredEncounter(
                        tempID: grant.tempID.rawValue, validity: claimed, heardAt: heard, contact: nil,
                        unmatchedReason: .timeMismatch))
                unmatchedIndices.append(index)
            } else {
                entries.append(
                    .encounter(ReportedEncounter(tempID: grant.tempID, validity: grant.validity, receivedAt: heard)))
                expected.append(
                    StoredEncounter(
                        tempID: grant.tempID.rawValue, validity: grant.validity, heardAt: heard, contact: grant.user,
                        unmatchedReason: nil))
            }
        }

        let receipt = try await authority.traceUpload(from: "+61410999999", entries: entries)
        #expect(receipt.received == count)
        #expect(receipt.matched == count - unmatchedIndices.count)
        #expect(receipt.unmatched.map(\.index) == unmatchedIndices, "each entry that did not trace, by its place")
        let stored = try #require(await store.upload(id: 1))
        let whole = UploadRecord(uploader: "+61410999999", receivedAt: stored.receivedAt, encounters: expected)
        #expect(stored == whole, "the same block, contacts (in the order first traced) and counts")
        #expect(stored.tracedContacts.count == 50)
    }
}
