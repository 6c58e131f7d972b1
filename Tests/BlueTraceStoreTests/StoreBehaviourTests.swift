import BlueTraceDomain
import Foundation
import Testing

@testable import BlueTraceStore

private let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)  // 13/05/2020 17:45:06 UTC

private func grant(_ digits: String, user: String, start: Timestamp = t0) -> TempIDGrant {
    TempIDGrant(user: user, tempID: TempID(digits)!, validity: TempIDPolicy().validity(issuedAt: start))
}

/// What every store must do, run against each one: SQLite always, PostgreSQL when BLUETRACE_TEST_POSTGRES names a
/// server (`.ci/run` sets it).
@Suite("Every store")
struct StoreBehaviourTests {
    @Test("Accounts are created once; the hash can be replaced", arguments: StoreKind.available)
    func accounts(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.createAccount(username: "+61410777777", passwordHash: "h1", at: t0))
            #expect(try await !store.createAccount(username: "+61410777777", passwordHash: "h2", at: t0))
            #expect(try await store.account(named: "+61410777777")?.passwordHash == "h1")
            try await store.updatePasswordHash(username: "+61410777777", passwordHash: "h3", at: t0 + 1)
            #expect(try await store.account(named: "+61410777777")?.passwordHash == "h3")
            #expect(try await store.account(named: "+61400000000") == nil)
        }
    }

    @Test(
        "Login records are read, changed and written atomically, even when attempts race",
        arguments: StoreKind.available)
    func loginStatesAreAtomic(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let policy = LoginPolicy(maximumFailures: 1000, blockDuration: 60)
            try await withThrowingTaskGroup(of: LoginDecision.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await store.updateLoginState(for: "+61410999999", at: t0) {
                            $0.attempt(passwordMatches: false, at: t0, policy: policy)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.loginState(for: "+61410999999") == LoginState(failures: 40))
            let decision = try await store.updateLoginState(for: "+61410999999", at: t0) {
                $0.attempt(passwordMatches: true, at: t0, policy: policy)
            }
            #expect(decision == .accepted)
            #expect(try await store.loginState(for: "+61410999999").isEmpty)
        }
    }

    @Test(
        "A TempID is recorded once; importing the same file twice adds nothing the second time",
        arguments: StoreKind.available)
    func tempIDsAreUnique(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let first = grant("12345678901234567890", user: "+61410999999")
            #expect(try await store.recordTempID(first, issuedAt: t0))
            #expect(try await !store.recordTempID(grant("12345678901234567890", user: "+61410666666"), issuedAt: t0))
            let file = [first, grant("12345678901234567891", user: "+61410888888")]
            #expect(try await store.importTempIDs(file, at: t0) == 1)
            #expect(try await store.importTempIDs(file, at: t0) == 0)
            let found = try await store.grants(for: file.map(\.tempID) + [TempID("99999999999999999999")!])
            #expect(found.count == 2)
            #expect(found[first.tempID] == first, "the first mapping wins")
        }
    }

    @Test("Looking up more TempIDs than one SQL statement takes works", arguments: StoreKind.available)
    func manyLookups(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let grants = (0..<1_200).map { grant(String(format: "%020d", $0), user: "+614100\($0 % 7)0000") }
            #expect(try await store.importTempIDs(grants, at: t0) == 1_200)
            let found = try await store.grants(for: grants.map(\.tempID))
            #expect(found.count == 1_200)
        }
    }

    @Test("Uploads keep every entry with its verdict; trace queries group by contact", arguments: StoreKind.available)
    func uploadsAndTraceQueries(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let window = TempIDPolicy().validity(issuedAt: t0)
            let encounters = [
                StoredEncounter(
                    tempID: "11111111111111111111", validity: window, heardAt: t0 + 100, contact: "+61410888888",
                    unmatchedReason: nil),
                StoredEncounter(
                    tempID: "22222222222222222222", validity: window, heardAt: t0 + 50, contact: "+61410888888",
                    unmatchedReason: nil),
                StoredEncounter(
                    tempID: "33333333333333333333", validity: window, heardAt: nil, contact: "+61410777777",
                    unmatchedReason: nil),
                StoredEncounter(
                    tempID: "44444444444444444444", validity: window, heardAt: t0, contact: nil,
                    unmatchedReason: .unknownID),
                StoredEncounter(
                    tempID: nil, validity: nil, heardAt: nil, contact: nil, unmatchedReason: .malformed,
                    detail: "entry is not a JSON object"),
            ]
            let id = try await store.recordUpload(
                UploadRecord(uploader: "+61410666666", receivedAt: t0 + 200, encounters: encounters))
            #expect(id > 0)
            #expect(
                try await store.upload(id: id)
                    == UploadRecord(uploader: "+61410666666", receivedAt: t0 + 200, encounters: encounters))
            let contacts = try await store.tracedContacts(of: "+61410666666")
            #expect(
                contacts == [
                    TracedContact(
                        phone: "+61410777777", firstEncounter: t0, lastEncounter: t0, encounters: 1,
                        tempIDs: [TempID("33333333333333333333")!]),
                    TracedContact(
                        phone: "+61410888888", firstEncounter: t0 + 50, lastEncounter: t0 + 100, encounters: 2,
                        tempIDs: [TempID("11111111111111111111")!, TempID("22222222222222222222")!]),
                ])
            #expect(try await store.tracedContacts(of: "+61410888888").isEmpty)
        }
    }

    @Test("An upload and its audit entries are stored by one call, in one transaction", arguments: StoreKind.available)
    func uploadWithItsAudit(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let encounter = StoredEncounter(
                tempID: "11111111111111111111", validity: ValidityWindow(start: t0, expiry: t0 + 899), heardAt: t0,
                contact: "+61410888888", unmatchedReason: nil)
            let audit = AuditEntry(
                at: t0 + 5, actor: "+61410666666", action: .upload, detail: "received 1 entry, traced 1")
            let before = try await store.auditTrail(since: nil).count
            let id = try await store.recordUpload(
                UploadRecord(uploader: "+61410666666", receivedAt: t0 + 5, encounters: [encounter]), audit: [audit])
            #expect(try await store.upload(id: id)?.matchedCount == 1)
            let trail = try await store.auditTrail(since: nil)
            #expect(trail.count == before + 1)
            #expect(trail.last == audit)
        }
    }

    @Test(
        "Retention deletes old uploads with their encounters, expired TempIDs and finished login records",
        arguments: StoreKind.available)
    func retention(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let day: Int64 = 86_400
            _ = try await store.recordTempID(grant("12345678901234567890", user: "+61410999999"), issuedAt: t0)
            _ = try await store.importTempIDs([grant("12345678901234567892", user: "+61410777777")], at: t0)
            _ = try await store.recordTempID(
                grant("12345678901234567891", user: "+61410888888", start: t0 + 30 * day), issuedAt: t0 + 30 * day)
            let encounter = StoredEncounter(
                tempID: "12345678901234567890", validity: nil, heardAt: nil, contact: "+61410999999",
                unmatchedReason: nil)
            _ = try await store.recordUpload(
                UploadRecord(uploader: "+61410666666", receivedAt: t0, encounters: [encounter, encounter]))
            _ = try await store.recordUpload(
                UploadRecord(uploader: "+61410777777", receivedAt: t0 + 30 * day, encounters: [encounter]))
            let policy = LoginPolicy(blockDuration: 60)
            _ = try await store.updateLoginState(for: "a", at: t0) {
                $0.attempt(passwordMatches: false, at: t0, policy: policy)
            }
            _ = try await store.updateLoginState(for: "b", at: t0 + 30 * day) {
                $0.attempt(passwordMatches: false, at: t0 + 30 * day, policy: policy)
            }

            let report = try await store.deleteData(olderThan: t0 + 21 * day)
            #expect(report == RetentionReport(uploads: 1, encounters: 2, tempIDs: 1, loginStates: 1))
            #expect(try await store.tracedContacts(of: "+61410666666").isEmpty)
            #expect(try await store.tracedContacts(of: "+61410777777").count == 1)
            #expect(try await store.grants(for: [TempID("12345678901234567891")!]).count == 1)
            #expect(
                try await store.grants(for: [TempID("12345678901234567892")!]).count == 1,
                "TempIDs imported from tempIDs.txt are the operator's record and stay")
            #expect(try await store.loginState(for: "b").failures == 1)
            #expect(try await store.grants(for: [TempID("12345678901234567890")!]).isEmpty)
            #expect(
                try await store.recordTempID(
                    grant("12345678901234567890", user: "+61410555555"), issuedAt: t0 + 31 * day),
                "a deleted TempID has left the index too: it is free to be issued again")
        }
    }

    @Test(
        "Racing writers of the same TempIDs: each caller learns its own outcome, and a batch judges each of its own",
        arguments: StoreKind.available)
    func concurrentTempIDsAreGroupCommitted(kind: StoreKind) async throws {
        try await kind.withDatabase { database in
            let store = try await database.open()
            // 300 distinct TempIDs, each offered twice by different users at once: exactly one offer of each wins.
            let offers = (0..<600).map { index in
                grant(String(format: "%020d", index % 300), user: "+614100\(index % 2)0000")
            }
            let outcomes = try await withThrowingTaskGroup(of: (TempIDGrant, Bool).self) { group in
                for offer in offers { group.addTask { (offer, try await store.recordTempID(offer, issuedAt: t0)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.filter(\.1).map(\.0)
            #expect(winners.count == 300)
            #expect(Set(winners.map(\.tempID)).count == 300)
            let found = try await store.grants(for: offers.map(\.tempID))
            #expect(found.count == 300)
            for winner in winners { #expect(found[winner.tempID] == winner, "the offer told it won is the one stored") }
            // Committed, not just acknowledged: a connection of its own to the database sees every one.
            #expect(try await database.integer(kind.tempIDCount) == 300)
            // One batch holding a new TempID, a known one, and the new one twice: only the first new offer wins.
            let fresh = grant("99999999999999999998", user: "+61410999999")
            let batch = try await store.recordTempIDs(
                [fresh, offers[0], grant("99999999999999999998", user: "+61410666666")], issuedAt: t0)
            #expect(batch == [true, false, false])
            #expect(try await store.grants(for: [fresh.tempID])[fresh.tempID] == fresh)
            await store.close()
        }
    }

    @Test(
        "Grants are answered by position, a TempID asked twice answered twice, an unknown one with nil",
        arguments: StoreKind.available)
    func grantsByPosition(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let grants = Self.manyGrants()
            #expect(try await store.importTempIDs(grants, at: Timestamp(secondsSinceEpoch: 0)) == grants.count)
            try await Self.expectGrantsByPosition(grants, from: store)
        }
    }

    /// 40,000 random 20-digit grants of seven users: more than one slice of a store's search.
    static func manyGrants() -> [TempIDGrant] {
        var generator = SystemRandomNumberGenerator()
        return (0..<40_000).map { number in
            TempIDGrant(
                user: "+6140000\(number % 7)", tempID: TempID.randomDecimal(using: &generator),
                validity: ValidityWindow(
                    start: Timestamp(secondsSinceEpoch: Int64(number)),
                    expiry: Timestamp(secondsSinceEpoch: 2_000_000)))
        }
    }

    /// Asks `store`, which holds `grants`, for all of them out of order, with repeats, an unknown TempID and one of
    /// another kind, and expects each answer in its place: the grant, or `nil` for the two it does not hold.
    static func expectGrantsByPosition(_ grants: [TempIDGrant], from store: any AuthorityStore) async throws {
        var generator = SystemRandomNumberGenerator()
        let unknown = TempID.randomDecimal(using: &generator)
        let asked = (grants.map(\.tempID) + [unknown, TempID("sealed+A")!] + grants.prefix(30).map(\.tempID)).shuffled()
        let byTempID = Dictionary(grants.map { ($0.tempID, $0) }, uniquingKeysWith: { first, _ in first })
        let found = try await store.grants(of: asked)
        #expect(found.count == asked.count)
        #expect(zip(asked, found).allSatisfy { tempID, grant in grant == byTempID[tempID] })
        #expect(found.compactMap { $0 }.count == asked.count - 2)
    }

    @Test(
        "Deleting an upload deletes its traced contacts with it (the foreign key cascades)",
        arguments: StoreKind.available)
    func encountersCascade(kind: StoreKind) async throws {
        try await kind.withDatabase { database in
            let store = try await database.open()
            let encounter = StoredEncounter(
                tempID: "12345678901234567891", validity: TempIDPolicy().validity(issuedAt: t0), heardAt: t0,
                contact: "+61410888888", unmatchedReason: nil)
            let old = try await store.recordUpload(
                UploadRecord(uploader: "+61410666666", receivedAt: t0, encounters: [encounter, encounter]))
            let kept = try await store.recordUpload(
                UploadRecord(uploader: "+61410777777", receivedAt: t0 + 86_400, encounters: [encounter]))
            _ = try await store.deleteData(olderThan: t0 + 1)
            // Counted past the store: no row of the deleted upload's is left behind, the other upload's is there.
            let table = kind.contactTable
            #expect(try await database.integer("SELECT COUNT(*) FROM \(table)") == 1)
            #expect(
                try await database.integer("SELECT COUNT(*) FROM \(table) WHERE \(kind.uploadColumn) = \(kept)") == 1)
            #expect(
                try await database.integer("SELECT COUNT(*) FROM \(table) WHERE \(kind.uploadColumn) = \(old)") == 0)
            #expect(try await store.tracedContacts(of: "+61410777777").map(\.encounters) == [1])
            await store.close()
        }
    }

    @Test(
        "TempIDs stored before a restart are found, and refused as duplicates, after it (SQLite rebuilds its index)",
        arguments: StoreKind.available)
    func indexRebuiltOnOpen(kind: StoreKind) async throws {
        try await kind.withDatabase { database in
            let grants = (0..<1_000).map { grant(String(format: "%020d", $0 * 7_919), user: "+6141\(100_000 + $0)") }
            let before = try await database.open()
            #expect(
                try await before.recordTempIDs(Array(grants[..<600]), issuedAt: t0)
                    == Array(repeating: true, count: 600))
            #expect(try await before.importTempIDs(Array(grants[500...]), at: t0) == 400)
            await before.close()
            let store = try await database.open()
            let found = try await store.grants(for: grants.map(\.tempID) + [TempID("99999999999999999999")!])
            #expect(found.count == 1_000)
            #expect(found[grants[999].tempID] == grants[999])
            #expect(try await store.recordTempIDs([grants[3], grants[700]], issuedAt: t0) == [false, false])
            #expect(try await database.integer(kind.tempIDCount) == 1_000, "nothing was stored twice")
            await store.close()
        }
    }
}
