import Synchronization

/// tempIDs.txt, appended to as TempIDs are issued: one lock, one `write(2)` per batch of TempIDs.
package final class TempIDJournal: Sendable {
    private let file: Mutex<AppendOnlyFile>

    package init(path: String) throws(ServerStartupError) {
        do {
            file = Mutex(try AppendOnlyFile(path: path))
        } catch {
            throw .tempIDsUnusable(path: path, reason: error.description)
        }
    }

    func append(_ lines: [String]) throws {
        try file.withLock { try $0.append(lines: lines) }
    }
}
