import BlueTraceDomain
import BlueTracePostgres
import BlueTraceStore
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("PostgreSQL store", .enabled(if: testServer != nil, "set BLUETRACE_TEST_POSTGRES (see the README)"))
struct PostgresStoreTests {
    @Test("The PostgreSQL store behaves exactly as the SQLite store")
    func sameBehaviour() async throws {
        try await withDatabase { stores in
            let postgres = try await StoreContractTests.story(stores[0])
            let sqlite = try await StoreContractTests.story(try SQLiteStore())
            #expect(postgres == sqlite)
        }
    }

    @Test("The console's methods behave on PostgreSQL exactly as on SQLite")
    func sameConsoleBehaviour() async throws {
        try await withDatabase { stores in
            let postgres = try await StoreContractTests.consoleStory(stores[0])
            let sqlite = try await StoreContractTests.consoleStory(try SQLiteStore())
            #expect(postgres == sqlite)
        }
    }

    @Test("Two servers racing: one registration of a number wins, a TempID is issued once, failures all count")
    func racingServers() async throws {
        try await withDatabase(stores: 2) { stores in
            let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await stores[index % 2].createAccount(username: "+61410777777", passwordHash: "h", at: t0)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(created.filter { $0 }.count == 1)

            let grant = TempIDGrant(
                user: "+61410777777", tempID: TempID("12345678901234567891")!,
                validity: TempIDPolicy().validity(issuedAt: t0))
            let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 { group.addTask { try await stores[index % 2].recordTempID(grant, issuedAt: t0) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(recorded.filter { $0 }.count == 1)
            #expect(
                try await stores[1].grants(for: [grant.tempID])[grant.tempID] == grant,
                "issued by one, traced by the other")

            let policy = LoginPolicy(blockDuration: 60)
            let decisions = try await withThrowingTaskGroup(of: LoginDecision.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await stores[index % 2].updateLoginState(for: "+61410999999", at: t0) {
                            $0.attempt(passwordMatches: false, at: t0, policy: policy)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(decisions.filter { if case .blockedNow = $0 { true } else { false } }.count == 1)
            #expect(decisions.filter { if case .blocked = $0 { true } else { false } }.count == 1, "\(decisions)")
        }
    }
}
