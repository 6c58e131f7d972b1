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

    @Test("A database of the first schema version is migrated and keeps its TempIDs, now compared byte by byte")
    func migratesAPreviousVersion() async throws {
        let server = try #require(testServer)
        let name = "bluetrace_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await server.withConnection(logger: quiet) {
            try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: quiet)
        }
        let url = server.with(database: name)
        try await PostgresStore.migrate(url, first: 1, logger: quiet)
        try await url.withConnection(logger: quiet) {
            try await $0.query(
                """
                INSERT INTO tempid (tempid, username, start, expiry, issued_at)
                VALUES ('12345678901234567890', '+61410777777', 1589391906, 1589392806, 1589391906)
                """, logger: quiet)
        }
        try await PostgresStore.migrate(url, logger: quiet)
        let (collation, expiryIndex) = try await url.withConnection(logger: quiet) { connection in
            var collation = ""
            for try await value in try await connection.query(
                """
                SELECT collation_name FROM information_schema.columns
                WHERE table_name = 'tempid' AND column_name = 'tempid'
                """, logger: quiet
            ).decode(String.self) { collation = value }
            var index = ""
            for try await value in try await connection.query(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'tempid_on_expiry'", logger: quiet
            ).decode(String.self) { index = value }
            return (collation, index)
        }
        #expect(collation == "C")
        #expect(expiryIndex.contains("USING brin"), "\(expiryIndex)")
        try await withThrowingDiscardingTaskGroup { group in
            let client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: quiet)
            group.addTask { await client.run() }
            let store = PostgresStore(client: client, logger: quiet)
            let found = try await store.grants(of: [TempID("12345678901234567890")!])
            #expect(found.first??.user == "+61410777777")
            group.cancelAll()
        }
        try await server.withConnection(logger: quiet) {
            try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: quiet)
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
