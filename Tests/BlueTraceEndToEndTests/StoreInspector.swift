import GRDB

/// Reads the server's database directly, to check what was stored.
struct SQLiteStoreInspector {
    let path: String

    func verdicts() async throws -> [String] {
        try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT verdict FROM encounter ORDER BY id")
        }
    }
}
