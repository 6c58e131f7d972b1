import BlueTraceStore

/// Reads the server's database through a store that takes no lock (as `bluetrace trace` does), to check what was
/// stored while the server runs.
struct SQLiteStoreInspector {
    let path: String

    /// The verdict of every stored entry, uploads in the order they were stored ("traced" or the unmatched reason).
    func verdicts() async throws -> [String] {
        let store = try SQLiteStore(path: path, exclusive: false)
        var verdicts: [String] = []
        var id: Int64 = 1
        while let upload = try await store.upload(id: id) {
            verdicts += upload.encounters.map { $0.unmatchedReason?.rawValue ?? "traced" }
            id += 1
        }
        return verdicts
    }
}
