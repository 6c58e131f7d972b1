import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lock a server holds on its SQLite database (`<path>-server.lock`, an advisory `flock`), so that a second server
/// on the same file is refused at start instead of issuing TempIDs the first one's index does not know.
///
/// The kernel releases the lock when the process ends, however it ends (kill -9 included): a stale lock file is
/// harmless.
final class ServerLock: Sendable {
    /// The lock file's descriptor while the lock is held; −1 once released.
    private let descriptor: Mutex<Int32>

    /// Takes the lock of the database at `databasePath`; throws `StoreError.inUse` when another process holds it.
    init(databasePath: String) throws(StoreError) {
        let path = databasePath + "-server.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        // A lock this process has just released can still be held for a moment by a child being started on another
        // thread: between its fork and its exec it holds a copy of every descriptor (close-on-exec closes them only
        // at the exec). So a refusal is believed only after it has lasted `contestedWait`.
        let deadline = ContinuousClock.now + Self.contestedWait
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            if reason == EWOULDBLOCK || reason == EINTR, ContinuousClock.now < deadline {
                usleep(10_000)
                continue
            }
            close(descriptor)
            if reason == EWOULDBLOCK { throw StoreError.inUse(path: databasePath) }
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(reason)))
        }
        self.descriptor = Mutex(descriptor)
    }

    /// How long a held lock is retried before the database is reported in use by another server.
    static let contestedWait: Duration = .seconds(1)

    /// Releases the lock now (closing the file releases the `flock`); later calls do nothing.
    func release() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            close(descriptor)
            descriptor = -1
        }
    }

    deinit {
        release()
    }
}
