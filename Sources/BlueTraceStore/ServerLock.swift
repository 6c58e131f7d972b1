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
    private let descriptor: Int32

    /// Takes the lock of the database at `databasePath`; throws `StoreError.inUse` when another process holds it.
    init(databasePath: String) throws(StoreError) {
        let path = databasePath + "-server.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(descriptor)
            if reason == EWOULDBLOCK { throw StoreError.inUse(path: databasePath) }
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(reason)))
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
