import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log back into the database file after a commit instead of inside it.
///
/// SQLite's automatic checkpoint runs in the call that commits, so the acknowledgment of a large upload waited while
/// its pages were copied a second time. The writer's connection gets a WAL hook instead: once the log holds
/// `threshold` pages, it asks for a passive checkpoint, run on a connection and a queue of this object's own. Writers go
/// on meanwhile (WAL mode lets one checkpointer work beside the writer), and no acknowledgment depends on it: a
/// committed transaction is in the log, which survives the process being killed.
final class WALCheckpointer: Sendable {
    /// Pages in the log after which a checkpoint is asked for (SQLite's own default is 1,000).
    let threshold: Int32
    private let path: String
    private let queue = DispatchQueue(label: "bluetrace.sqlite.checkpoint")
    /// Whether a checkpoint is asked for and has not started yet: a burst of commits asks once.
    private let pending = Atomic<Bool>(false)
    /// The checkpointing connection, opened at the first checkpoint; `nil` again once closed.
    private let connection = Mutex<Connection>(.notOpened)

    private enum Connection {
        case notOpened
        case open(DatabaseQueue)
        case closed
    }

    /// A checkpointer for the database at `path`.
    init(path: String, threshold: Int32 = 10_000) {
        self.path = path
        self.threshold = threshold
    }

    /// Makes the writer's connection `db` ask this checkpointer for checkpoints instead of running them itself.
    func install(on db: Database) {
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, _, _, pages in
                // The store keeps the checkpointer for as long as its writer's connection is open.
                let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue()
                if pages >= checkpointer.threshold { checkpointer.ask() }
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque())
    }

    /// Asks for a checkpoint on the checkpointer's queue, unless one is already waiting there.
    private func ask() {
        guard pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        queue.async { [self] in
            pending.store(false, ordering: .releasing)
            // A passive checkpoint copies what it can without waiting for readers or the writer; what a reader still
            // needs is copied at a later one.
            _ = try? run(.passive)
        }
    }

    /// Runs a checkpoint of `kind` now, on the checkpointer's queue (so never beside one of its own: SQLite refuses
    /// a second checkpointer as "database is locked"), and waits for it; `false` once closed.
    @discardableResult
    func checkpoint(_ kind: Database.CheckpointMode) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in continuation.resume(with: Result { try run(kind) }) }
        }
    }

    /// Runs a checkpoint on the checkpointing connection, opening it first if needed. Called on `queue`.
    private func run(_ kind: Database.CheckpointMode) throws -> Bool {
        try connection.withLock { connection in
            if case .notOpened = connection {
                var configuration = Configuration()
                // A full or truncating checkpoint waits for the writer's transaction to end.
                configuration.busyMode = .timeout(10)
                connection = .open(try DatabaseQueue(path: path, configuration: configuration))
            }
            guard case .open(let database) = connection else { return false }
            _ = try database.writeWithoutTransaction { try $0.checkpoint(kind) }
            return true
        }
    }

    /// Waits for a checkpoint under way and closes the checkpointing connection; later requests do nothing.
    func close() {
        queue.sync {
            connection.withLock { connection in
                if case .open(let database) = connection { try? database.close() }
                connection = .closed
            }
        }
    }
}
