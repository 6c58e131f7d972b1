import BlueTraceDomain
import BlueTraceStore
import Testing

/// Both stores keep the same contract: run the same story against each and compare.
@Suite("Store contract")
struct StoreContractTests {
    enum Kind: String, CaseIterable, Sendable {
        case sqlite, memory

        func make() throws -> any AuthorityStore {
            switch self {
            case .sqlite: try SQLiteStore()
            case .memory: InMemoryStore()
            }
        }
    }

    static let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

    /// A story touching every method; returns what a caller would observe.
    static func story(_ store: some AuthorityStore) async throws -> [String] {
        var seen: [String] = []
        let policy = LoginPolicy(blockDuration: 60)
        seen.append("\(try await store.createAccount(username: "+61410777777", passwordHash: "h", at: t0))")
        seen.append("\(try await store.createAccount(username: "+61410777777", passwordHash: "x", at: t0))")
        try await store.updatePasswordHash(username: "+61410777777", passwordHash: "h2", at: t0)
        seen.append(try await store.account(named: "+61410777777")?.passwordHash ?? "-")
        for second in 0..<3 {
            let decision = try await store.updateLoginState(for: "+61410999999", at: t0 + Int64(second)) {
                $0.attempt(passwordMatches: false, at: t0 + Int64(second), policy: policy)
            }
            seen.append("\(decision)")
        }
        seen.append("\(try await store.loginState(for: "+61410999999"))")
        let window = TempIDPolicy().validity(issuedAt: t0)
        let a = TempIDGrant(user: "+61410888888", tempID: TempID("11111111111111111111")!, validity: window)
        let b = TempIDGrant(user: "+61410777777", tempID: TempID("22222222222222222222")!, validity: window)
        seen.append("\(try await store.recordTempID(a, issuedAt: t0))")
        seen.append("\(try await store.recordTempID(a, issuedAt: t0))")
        seen.append("\(try await store.importTempIDs([a, b], at: t0))")
        seen.append("\(try await store.grants(for: [a.tempID, b.tempID]).count)")
        let encounters = [
            StoredEncounter(
                tempID: "11111111111111111111", validity: window, heardAt: t0 + 5, contact: "+61410888888",
                unmatchedReason: nil),
            StoredEncounter(
                tempID: "22222222222222222222", validity: window, heardAt: t0 + 9, contact: "+61410777777",
                unmatchedReason: nil),
            StoredEncounter(
                tempID: "11111111111111111111", validity: window, heardAt: t0 + 1, contact: "+61410888888",
                unmatchedReason: nil),
            StoredEncounter(tempID: "3", validity: nil, heardAt: nil, contact: nil, unmatchedReason: .unknownID),
        ]
        let first = try await store.recordUpload(
            UploadRecord(uploader: "+61410666666", receivedAt: t0, encounters: encounters))
        seen.append("\(try await store.tracedContacts(of: "+61410666666"))")
        let second = try await store.recordUpload(
            UploadRecord(uploader: "+61410666666", receivedAt: t0 + 60, encounters: Array(encounters.suffix(2))))
        seen.append("\(try await store.tracedContacts(of: "+61410666666"))")
        seen.append("\(second > first)")
        seen.append(
            "\(try await store.upload(id: first) == UploadRecord(uploader: "+61410666666", receivedAt: t0, encounters: encounters))"
        )
        seen.append("\(try await store.upload(id: second + 1) == nil)")
        seen.append("\(try await store.deleteData(olderThan: t0 + 30 * 86_400))")
        seen.append("\(try await store.tracedContacts(of: "+61410666666").count)")
        seen.append("\(try await store.upload(id: first) == nil)")
        let pending = PendingUploadCode(keyID: 1, mac: [1, 2, 3], issuedAt: t0, expiresAt: t0 + 899)
        try await store.updateUploadCodes(for: "+61410666666", at: t0) { $0.issue(pending) }
        let wrong = try await store.updateUploadCodes(for: "+61410666666", at: t0 + 1) {
            $0.redeem(at: t0 + 1, policy: UploadCodePolicy()) { _ in false }
        }
        seen.append("\(wrong)")
        seen.append("\(try await store.updateUploadCodes(for: "+61410666666", at: t0 + 2) { $0 })")
        let right = try await store.updateUploadCodes(for: "+61410666666", at: t0 + 3) {
            $0.redeem(at: t0 + 3, policy: UploadCodePolicy()) { $0.mac == [1, 2, 3] }
        }
        seen.append("\(right)")
        seen.append("\(try await store.updateUploadCodes(for: "+61410666666", at: t0 + 4) { $0.isEmpty })")
        let notices = try await store.recordNotices(
            [("+61410777777", t0 + 9), ("+61410888888", t0 + 5)], at: t0 + 10)
        seen.append("\(notices.map(\.phone)) \(notices[1].id > notices[0].id)")
        seen.append("\(try await store.pendingNotices(for: "+61410777777").map(\.lastEncounter))")
        seen.append("\(try await store.markNoticeDelivered(id: notices[0].id, to: "+61410888888", at: t0 + 11))")
        seen.append("\(try await store.markNoticeDelivered(id: notices[0].id, to: "+61410777777", at: t0 + 11))")
        seen.append("\(try await store.markNoticeDelivered(id: notices[0].id, to: "+61410777777", at: t0 + 12))")
        seen.append("\(try await store.pendingNotices(for: "+61410777777").count)")
        try await store.recordAudit([
            AuditEntry(at: t0 + 5, actor: "official", action: .codeIssued, subject: "+61410666666", detail: "d"),
            AuditEntry(at: t0 + 86_400 * 40, actor: "+61410666666", action: .upload),
        ])
        seen.append("\(try await store.auditTrail(since: nil).map(\.action))")
        seen.append("\(try await store.auditTrail(since: t0 + 6).count)")
        seen.append("\(try await store.deleteData(olderThan: t0 + 86_400 * 39).auditEntries)")
        seen.append("\(try await store.auditTrail(since: nil).map(\.actor))")
        seen.append("\(try await store.grants(for: [a.tempID, b.tempID]).count)")
        return seen
    }

    @Test("The in-memory store behaves exactly as the SQLite store")
    func sameBehaviour() async throws {
        let sqlite = try await Self.story(try Kind.sqlite.make())
        let memory = try await Self.story(try Kind.memory.make())
        #expect(memory == sqlite)
        #expect(sqlite.contains("blockedNow(until: @1589391968)"))
        #expect(sqlite.contains("wrong(remainingAttempts: 4)"))
        #expect(sqlite.contains("accepted"))
        #expect(
            sqlite.contains("[\"+61410777777\", \"+61410888888\"] true"),
            "notices get growing ids; delivered once, only to their phone")
        let delivered = sqlite.firstIndex { $0.hasPrefix("[\"+61410777777\", ") }.map { sqlite[($0 + 2)...].prefix(4) }
        #expect(delivered.map(Array.init) == ["false", "true", "false", "0"])
        #expect(
            sqlite.suffix(5) == ["[code_issued, upload]", "1", "1", "[\"+61410666666\"]", "1"],
            "the audit trail in order, read from a time on, and cut by retention; then the imported TempID remains")
        #expect(sqlite.filter { $0 == "true" }.count >= 5, "ids grow, an upload reads back whole, unknown ids are nil")
    }

    /// A story touching the console's methods (readiness, the cases list, notice status, officials); returns what a
    /// caller would observe.
    static func consoleStory(_ store: some AuthorityStore) async throws -> [String] {
        var seen: [String] = []
        try await store.ping()
        seen.append("\(try await store.uploads(offset: 0, limit: 10))")
        var ids: [Int64] = []
        for index in 0..<5 {
            var encounters: [StoredEncounter] = []
            for entry in 0...index {
                let traced = entry % 2 == 0
                let contact: String? = traced ? "+6141000000" + String(entry) : nil
                let reason: UnmatchedReason? = traced ? nil : .unknownID
                encounters.append(
                    StoredEncounter(
                        tempID: String(entry), validity: nil, heardAt: t0 + Int64(entry), contact: contact,
                        unmatchedReason: reason))
            }
            ids.append(
                try await store.recordUpload(
                    UploadRecord(uploader: "+6141099999\(index)", receivedAt: t0 + Int64(index), encounters: encounters)
                ))
        }
        let page = try await store.uploads(offset: 1, limit: 2)
        seen.append(
            "\(page.total) \(page.uploads.map(\.uploader)) \(page.uploads.map(\.entries)) \(page.uploads.map(\.traced))"
        )
        seen.append("\(page.uploads.map(\.id) == [ids[3], ids[2]]) \(page.uploads.map(\.receivedAt))")
        seen.append("\(try await store.uploads(offset: 4, limit: 5).uploads.map(\.uploader))")
        seen.append("\(try await store.uploads(offset: 9, limit: 5).uploads.count)")
        seen.append("\(try await store.uploads(offset: -3, limit: -1).uploads.count)")
        let notices = try await store.recordNotices([("+61410000000", t0), ("+61410000002", t0 + 2)], at: t0 + 10)
        let later = try await store.recordNotices([("+61410000000", t0)], at: t0 + 20)
        _ = try await store.markNoticeDelivered(id: later[0].id, to: "+61410000000", at: t0 + 30)
        let statuses = try await store.noticeStatuses(
            for: ["+61410000000", "+61410000002", "+61410000004"], since: t0 + 5)
        seen.append("\(statuses.keys.sorted())")
        seen.append(
            "\(statuses["+61410000000"] == NoticeStatus(id: later[0].id, createdAt: t0 + 20, deliveredAt: t0 + 30))")
        seen.append(
            "\(statuses["+61410000002"] == NoticeStatus(id: notices[1].id, createdAt: t0 + 10, deliveredAt: nil))")
        seen.append("\(try await store.noticeStatuses(for: ["+61410000000"], since: t0 + 21).count)")
        seen.append("\(try await store.noticeStatuses(for: [], since: t0).count)")
        seen.append("\(try await store.official(named: "dr.lee") == nil)")
        seen.append("\(try await store.createOfficial(name: "dr.lee", passwordHash: "h", at: t0))")
        seen.append("\(try await store.createOfficial(name: "dr.lee", passwordHash: "x", at: t0 + 1))")
        seen.append("\(try await store.account(named: "dr.lee") == nil)")
        let policy = LoginPolicy(blockDuration: 300)
        for second in 0..<3 {
            let decision = try await store.updateOfficialLoginState(for: "dr.lee", at: t0 + Int64(second)) {
                $0.attempt(passwordMatches: false, at: t0 + Int64(second), policy: policy)
            }
            seen.append("\(decision.map { "\($0)" } ?? "nil")")
        }
        let official = try await store.official(named: "dr.lee")
        seen.append(
            "\(official?.passwordHash ?? "-") \(official?.createdAt ?? t0) \(official?.loginState ?? LoginState())")
        seen.append("\(try await store.loginState(for: "dr.lee"))")
        let none = try await store.updateOfficialLoginState(for: "nobody", at: t0) { _ in 1 }
        seen.append("\(none == nil) \(try await store.official(named: "nobody") == nil)")
        try await store.recordAudit([
            AuditEntry(at: t0 + 7, actor: "a", action: .consoleView, subject: "/1"),
            AuditEntry(at: t0 + 5, actor: "b", action: .consoleView, subject: "/2"),
            AuditEntry(at: t0 + 7, actor: "c", action: .consoleView, subject: "/3"),
            AuditEntry(at: t0 + 9, actor: "d", action: .consoleLogin, detail: "accepted"),
        ])
        let audit = try await store.auditPage(offset: 1, limit: 2)
        seen.append("\(audit.total) \(audit.entries.map(\.actor))")
        seen.append(
            "\(try await store.auditPage(offset: 3, limit: 9).entries.map(\.actor)) \(try await store.auditPage(offset: -1, limit: -1).entries.count)"
        )
        _ = try await store.deleteData(olderThan: t0 + 86_400 * 100)
        seen.append(
            "\(try await store.official(named: "dr.lee") != nil) \(try await store.uploads(offset: 0, limit: 9).total)")
        return seen
    }

    @Test("The console's methods behave the same on the in-memory and SQLite stores")
    func sameConsoleBehaviour() async throws {
        let sqlite = try await Self.consoleStory(try Kind.sqlite.make())
        let memory = try await Self.consoleStory(try Kind.memory.make())
        #expect(memory == sqlite)
        #expect(sqlite[0] == "UploadPage(total: 0, uploads: [])")
        #expect(sqlite[1] == "5 [\"+61410999993\", \"+61410999992\"] [4, 3] [2, 2]", "newest first, skipping one")
        #expect(sqlite[2] == "true [@1589391909, @1589391908]")
        #expect(sqlite[3] == "[\"+61410999990\"]" && sqlite[4] == "0" && sqlite[5] == "0")
        #expect(sqlite[6] == "[\"+61410000000\", \"+61410000002\"]", "only phones with a notice since then")
        #expect(sqlite[7] == "true" && sqlite[8] == "true", "the latest notice, delivered or pending")
        #expect(sqlite[9] == "0" && sqlite[10] == "0")
        #expect(Array(sqlite[11...14]) == ["true", "true", "false", "true"], "an official is not a phone account")
        #expect(
            Array(sqlite[15...17])
                == [
                    "rejected(remainingAttempts: 2)", "rejected(remainingAttempts: 1)",
                    "blockedNow(until: @1589392208)",
                ])
        #expect(sqlite[18] == "h @1589391906 LoginState(failures: 0, blockedUntil: Optional(@1589392208))")
        #expect(sqlite[19] == "LoginState(failures: 0, blockedUntil: nil)", "phones' login records are apart")
        #expect(sqlite[20] == "true true")
        #expect(sqlite[21] == "4 [\"c\", \"a\"]", "newest first, the later of equal times first")
        #expect(sqlite[22] == "[\"b\"] 0")
        #expect(sqlite[23] == "true 0", "retention deletes uploads, never officials")
    }
}
