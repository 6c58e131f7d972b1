import BlueTraceDomain
import Foundation
import GRDB
import Testing

@testable import BlueTraceStore

private let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)  // 13/05/2020 17:45:06 UTC

private func grant(_ digits: String, user: String, start: Timestamp = t0) -> TempIDGrant {
    TempIDGrant(user: user, tempID: TempID(digits)!, validity: TempIDPolicy().validity(issuedAt: start))
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("A new database gets the whole schema, in WAL mode")
    func migratesAnEmptyDatabase() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        let (tables, columns, mode) = try await queue.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
                try db.columns(in: "upload").map(\.name),
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            )
        }
        for table in ["account", "loginState", "tempIDBlock", "upload", "uploadContacts"] {
            #expect(tables.contains(table))
        }
        #expect(!tables.contains("encounter"), "entries live in one block per upload since v7")
        #expect(!tables.contains("contact"), "traced contacts live in one block per upload since v11")
        #expect(columns.contains("entries"))
        #expect(mode == "wal")
    }

    @Test("A database of the previous schema version is migrated and keeps its data")
    func migratesAPreviousVersion() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteStore.migrator.migrate(queue, upTo: "v1")
            try await queue.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO upload (id, uploader, receivedAt, entryCount, matchedCount) VALUES (1, ?, ?, 1, 1)",
                    arguments: ["+61410666666", t0.secondsSinceEpoch])
                try db.execute(
                    sql: """
                        INSERT INTO encounter (uploadId, tempID, start, expiry, heardAt, contact, verdict)
                        VALUES (1, '12345678901234567891', ?, ?, ?, '+61410888888', 'traced')
                        """,
                    arguments: [t0.secondsSinceEpoch, t0.secondsSinceEpoch + 899, t0.secondsSinceEpoch + 10])
                try db.execute(
                    sql: """
                        INSERT INTO tempID (tempID, username, start, expiry, issuedAt)
                        VALUES ('12345678901234567891', '+61410888888', ?, ?, ?)
                        """,
                    arguments: [t0.secondsSinceEpoch, t0.secondsSinceEpoch + 899, t0.secondsSinceEpoch])
                #expect(try !db.columns(in: "encounter").map(\.name).contains("detail"))
            }
        }
        let store = try SQLiteStore(path: path)
        let tempID = TempID("12345678901234567891")!
        #expect(
            try await store.grants(for: [tempID]) == [
                tempID: TempIDGrant(
                    user: "+61410888888", tempID: tempID, validity: ValidityWindow(start: t0, expiry: t0 + 899))
            ])
        let contacts = try await store.tracedContacts(of: "+61410666666")
        #expect(
            contacts == [
                TracedContact(
                    phone: "+61410888888", firstEncounter: t0 + 10, lastEncounter: t0 + 10, encounters: 1,
                    tempIDs: [TempID("12345678901234567891")!])
            ])
        let applied = try await DatabaseQueue(path: path).read { db in
            try SQLiteStore.migrator.appliedMigrations(db)
        }
        #expect(
            applied == [
                "v1", "v2: malformed details, imported TempIDs, trace indexes", "v3: TempIDs in a table without rowid",
                "v4: no index on encounter contacts", "v5: encounters keyed by rowid without AUTOINCREMENT",
                "v6: TempIDs appended in issue order, found through an index in memory",
                "v7: an upload's entries in one block, a row per traced contact",
                "v8: one-time upload codes and the audit trail", "v9: exposure notices",
                "v10: health officials' console accounts", "v11: an upload's traced contacts in one block",
                "v12: TempID mappings in blocks",
            ])
        let upload = try await store.upload(id: 1)
        #expect(
            upload?.encounters == [
                StoredEncounter(
                    tempID: "12345678901234567891", validity: ValidityWindow(start: t0, expiry: t0 + 899),
                    heardAt: t0 + 10, contact: "+61410888888", unmatchedReason: nil)
            ], "the encounter row of the old schema is in the upload's block")
        let (tempIDTable, blocks) = try await DatabaseQueue(path: path).read { db in
            (
                try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'tempID'"),
                try Int.fetchOne(db, sql: "SELECT SUM(count) FROM tempIDBlock")
            )
        }
        #expect(tempIDTable == nil, "mappings live in blocks since v12")
        #expect(blocks == 1)
    }

    @Test("Contact rows of schema v10 become one block per upload, read back as they were, and go with their upload")
    func migratesContactRows() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteStore.migrator.migrate(queue, upTo: "v10: health officials' console accounts")
            try await queue.write { db in
                for (id, uploader, day) in [(1, "+61410666666", 0), (2, "+61410666666", 30), (3, "+61410555555", 30)] {
                    try db.execute(
                        sql: """
                            INSERT INTO upload (id, uploader, receivedAt, entryCount, matchedCount)
                            VALUES (?, ?, ?, 2, 2)
                            """,
                        arguments: [id, uploader, t0.secondsSinceEpoch + Int64(day) * 86_400])
                }
                let rows: [(Int, String, Int64, Int64, Int, String)] = [
                    (1, "+61410888888", 10, 20, 2, "11111111111111111111,sealed+AAA="),
                    (1, "+61410777777", 5, 5, 1, ""),
                    (2, "+61410888888", 30, 40, 3, "22222222222222222222"),
                    (3, "+61410999999", 1, 2, 1, "33333333333333333333"),
                ]
                for (uploadId, phone, first, last, encounters, tempIDs) in rows {
                    try db.execute(
                        sql: """
                            INSERT INTO contact (uploadId, phone, firstEncounter, lastEncounter, encounters, tempIDs)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            uploadId, phone, t0.secondsSinceEpoch + first, t0.secondsSinceEpoch + last, encounters,
                            tempIDs,
                        ])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        #expect(
            try await store.tracedContacts(of: "+61410666666") == [
                TracedContact(
                    phone: "+61410777777", firstEncounter: t0 + 5, lastEncounter: t0 + 5, encounters: 1, tempIDs: []),
                TracedContact(
                    phone: "+61410888888", firstEncounter: t0 + 10, lastEncounter: t0 + 40, encounters: 5,
                    tempIDs: ["11111111111111111111", "22222222222222222222", "sealed+AAA="].map { TempID($0)! }),
            ])
        #expect(
            try await store.tracedContacts(of: "+61410555555") == [
                TracedContact(
                    phone: "+61410999999", firstEncounter: t0 + 1, lastEncounter: t0 + 2, encounters: 1,
                    tempIDs: [TempID("33333333333333333333")!])
            ])
        let (tables, blocks) = try await DatabaseQueue(path: path).read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM uploadContacts") ?? 0
            )
        }
        #expect(!tables.contains("contact"))
        #expect(blocks == 3, "one block per upload that traced anybody")
        // Retention deletes an upload's block with it.
        _ = try await store.deleteData(olderThan: t0 + 86_400)
        #expect(
            try await store.tracedContacts(of: "+61410666666").map(\.firstEncounter) == [t0 + 30],
            "the first upload's contacts went with it; the second's stay")
        let left = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM uploadContacts") ?? 0
        }
        #expect(left == 2)
    }

    @Test("An upload's contacts are written a block per part and read back whole, in order, and deleted with it")
    func contactsInParts() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        let store = try SQLiteStore(path: path, exclusive: true, checkpointAfterPages: 10_000, contactPartBytes: 300)
        let encounters = (0..<400).map { number in
            StoredEncounter(
                tempID: String(format: "%020d", number), validity: ValidityWindow(start: t0, expiry: t0 + 899),
                heardAt: t0 + Int64(number), contact: "+6141000\(number % 40)", unmatchedReason: nil)
        }
        let record = UploadRecord(uploader: "+61410666666", receivedAt: t0, encounters: encounters)
        #expect(record.tracedContacts.count == 40)
        _ = try await store.recordUpload(record)
        let rows = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM uploadContacts") ?? 0
        }
        // Each contact takes 30 + 12 + 10 × 17 = 212 bytes: two reach 300.
        #expect(rows == 20)
        #expect(try await store.tracedContacts(of: "+61410666666") == TracedContact.merged(record.tracedContacts))
        _ = try await store.deleteData(olderThan: t0 + 1)
        #expect(try await store.tracedContacts(of: "+61410666666").isEmpty)
        let left = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM uploadContacts") ?? 0
        }
        #expect(left == 0)
    }

    @Test("TempID rows of schema v11 become blocks, one per batch: the first mapping still wins, imports still stay")
    func migratesTempIDRows() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        let day: Int64 = 86_400
        // Two issued batches, an import, a TempID stored twice (the first row wins) and one of another scheme.
        let rows: [(String, String, Timestamp, Bool)] = [
            ("11111111111111111111", "+61410000001", t0, false),
            ("22222222222222222222", "+61410000002", t0, false),
            ("11111111111111111111", "+61410000009", t0, false),
            ("33333333333333333333", "+61410000003", t0 + 30 * day, false),
            ("sealed+AAA=", "+61410000004", t0 + 30 * day, false),
            ("44444444444444444444", "+61410000005", t0, true),
        ]
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteStore.migrator.migrate(queue, upTo: "v11: an upload's traced contacts in one block")
            try await queue.write { db in
                for (tempID, user, issuedAt, imported) in rows {
                    try db.execute(
                        sql: """
                            INSERT INTO tempID (tempID, username, start, expiry, issuedAt, imported)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            tempID, user, issuedAt.secondsSinceEpoch, issuedAt.secondsSinceEpoch + 899,
                            issuedAt.secondsSinceEpoch, imported,
                        ])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let found = try await store.grants(of: rows.map { TempID($0.0)! })
        #expect(
            found.map { $0?.user } == [
                "+61410000001", "+61410000002", "+61410000001", "+61410000003", "+61410000004", "+61410000005",
            ], "each TempID keeps the mapping of its first row")
        #expect(found[3]?.validity == ValidityWindow(start: t0 + 30 * day, expiry: t0 + 30 * day + 899))
        let blocks = try await DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT count, imported FROM tempIDBlock ORDER BY id").map {
                [$0["count"] as Int, $0["imported"] as Int]
            }
        }
        #expect(blocks == [[2, 0], [2, 0], [1, 1]], "a block per batch, the repeat left out")
        let report = try await store.deleteData(olderThan: t0 + 21 * day)
        #expect(report.tempIDs == 2)
        #expect(
            try await store.grants(of: rows.map { TempID($0.0)! }).map { $0 != nil } == [
                false, false, false, true, true, true,
            ])
        await store.close()
    }

    @Test("Retention deletes the expired mappings of a block that straddles its cutoff and rewrites the rest")
    func retentionAcrossABlock() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        let day: Int64 = 86_400
        let batch = (0..<30).map { number in
            grant(
                String(format: "%020d", number * 7_919), user: "+6141000\(number % 3)", start: t0 + Int64(number) * day)
        }
        let store = try SQLiteStore(path: path)
        #expect(try await store.recordTempIDs(batch, issuedAt: t0) == Array(repeating: true, count: 30))
        let report = try await store.deleteData(olderThan: t0 + 10 * day)
        #expect(report.tempIDs == 10, "windows that began on days 0 to 9 ended before day 10")
        func expectKept(_ store: SQLiteStore) async throws {
            let found = try await store.grants(of: batch.map(\.tempID))
            #expect(found.prefix(10).allSatisfy { $0 == nil })
            #expect(Array(found.dropFirst(10)) == batch.dropFirst(10).map { $0 })
        }
        try await expectKept(store)
        #expect(
            try await store.recordTempIDs([batch[0], batch[10]], issuedAt: t0 + 10 * day) == [true, false],
            "a deleted TempID is free to be issued again; a kept one is not")
        await store.close()
        // What the index said is what the table holds: rebuilt from the blocks, it says the same.
        let reopened = try SQLiteStore(path: path)
        let found = try await reopened.grants(of: batch.map(\.tempID))
        #expect(found[0] == batch[0])
        #expect(found[1..<10].allSatisfy { $0 == nil })
        #expect(Array(found.dropFirst(10)) == batch.dropFirst(10).map { $0 })
        let (rows, mappings) = try await DatabaseQueue(path: path).read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tempIDBlock") ?? 0,
                try Int.fetchOne(db, sql: "SELECT SUM(count) FROM tempIDBlock") ?? 0
            )
        }
        #expect(rows == 2)
        #expect(mappings == 21)
        await reopened.close()
    }

    @Test("A damaged block of TempID mappings stops the server's start with a clear error, and is not misread")
    func damagedTempIDBlock() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.recordTempIDs([grant("12345678901234567890", user: "+61410888888")], issuedAt: t0)
            await store.close()
        }
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE tempIDBlock SET mappings = substr(mappings, 1, length(mappings) - 3)")
        }
        #expect {
            _ = try SQLiteStore(path: path)
        } throws: { error in
            "\(error)".contains("the stored TempID mappings cannot be read: the database is damaged")
        }
    }

    @Test(
        "Lookups go in the index's key order: every 20-digit TempID's position, sorted as their text is, then the rest")
    func lookupOrder() {
        var generator = SystemRandomNumberGenerator()
        let decimal = (0..<500).map { _ in TempID.randomDecimal(using: &generator) }
        let others = ["sealed+B", "sealed+A", "123", "1234567890123456789012"].map { TempID($0)! }
        let input = (decimal + decimal.prefix(50) + others + others.prefix(1)).shuffled()
        let order = SQLiteStore.lookupOrder(input)
        #expect(order.decimal.count == 550)
        #expect(Set(order.decimal.map(\.position) + order.others) == Set(input.indices))
        #expect(order.others.count == 5)
        #expect(order.others.allSatisfy { !input[$0].isDecimal })
        #expect(
            order.decimal.map { input[$0.position].rawValue }
                == (decimal + decimal.prefix(50)).map(\.rawValue).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test("A large write is copied from the log into the database file after its commit, not inside it, by the store")
    func checkpointAfterCommit() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        // A checkpoint asked for at 50 pages (200 KiB of log); an upload of 20,000 entries writes about 760 KB.
        let store = try SQLiteStore(path: path, exclusive: true, checkpointAfterPages: 50)
        func fileSize() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil) ?? 0
        }
        let before = fileSize()
        var generator = SystemRandomNumberGenerator()
        let encounters = (0..<20_000).map { number in
            StoredEncounter(
                tempID: TempID.randomDecimal(using: &generator).rawValue,
                validity: ValidityWindow(start: t0, expiry: t0 + 899), heardAt: t0 + Int64(number % 900),
                contact: "+6141000\(number % 100)", unmatchedReason: nil)
        }
        let id = try await store.recordUpload(
            UploadRecord(uploader: "+61410666666", receivedAt: t0, encounters: encounters))
        // Nobody asks for a checkpoint here: the store's checkpointer copies the log into the file on its own. The
        // deadline only bounds a failure; the loop ends as soon as the file has grown.
        let deadline = ContinuousClock.now + .seconds(60)
        while fileSize() < before + 700_000, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(fileSize() >= before + 700_000, "the database file grew by \(fileSize() - before) bytes")
        #expect(try await store.upload(id: id)?.encounters == encounters)
        // An explicit checkpoint while the store's own ones run is never refused as "database is locked": both go
        // through the checkpointer, one at a time.
        for round in 0..<10 {
            async let stored = store.recordUpload(
                UploadRecord(uploader: "+61410666666", receivedAt: t0 + Int64(round), encounters: encounters))
            try await store.checkpoint()
            _ = try await stored
        }
        await store.close()
        // Reopened, everything is there.
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.upload(id: id)?.entryCount == 20_000)
        await reopened.close()
    }

    @Test("Reopened, the index is rebuilt sorted and answers by position (repeats, unknowns, searched in halves)")
    func grantsByPosition() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        let store = try SQLiteStore(path: path)
        let grants = StoreBehaviourTests.manyGrants()
        #expect(try await store.importTempIDs(grants, at: Timestamp(secondsSinceEpoch: 0)) == grants.count)
        await store.close()
        // Reopened, the index is rebuilt sorted from the table: the searches gallop through its sorted part.
        let reopened = try SQLiteStore(path: path)
        try await StoreBehaviourTests.expectGrantsByPosition(grants, from: reopened)
        // Asked for twice over, more than are searched at once: the sorted order is searched in halves side by side.
        #expect(2 * grants.count >= SQLiteStore.lookupsSearchedInHalves)
        try await StoreBehaviourTests.expectGrantsByPosition(grants + grants, from: reopened)
        await reopened.close()
    }

    @Test("A second server on the same database is refused while the first has it open, and let in after")
    func oneServerPerDatabase() async throws {
        let path = temporaryPath()
        defer { removeDatabase(path) }
        var first: SQLiteStore? = try SQLiteStore(path: path)
        #expect(first != nil)
        #expect(throws: StoreError.inUse(path: path)) { try SQLiteStore(path: path) }
        let reader = try SQLiteStore(path: path, exclusive: false)
        #expect(try await reader.tracedContacts(of: "+61410666666").isEmpty, "a reader (bluetrace trace) needs no lock")
        first = nil
        let second = try SQLiteStore(path: path)
        await second.close()
        let third = try SQLiteStore(path: path)
        #expect(second !== third, "closing releases the lock at once, while the closed store still exists")
    }

    @Test("An unusable path is refused with a clear error")
    func unusablePath() {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/nonexistent-dir/x/bluetrace.sqlite") }
    }
}
