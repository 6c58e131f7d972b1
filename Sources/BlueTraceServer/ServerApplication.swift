import BlueTraceAuthority
import BlueTraceDomain
import BlueTracePostgres
import BlueTraceSecurity
import BlueTraceStore
import BlueTraceTLS
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root of a health authority: chooses the store, loads the server keys, opens tempIDs.txt, makes the
/// core (`HealthAuthority`), imports credentials.txt and tempIDs.txt, and lists the services that run beside it.
///
/// Everything that picks an implementation is here (the PostgreSQL store will be chosen here too); the core only
/// uses what it is given.
public struct ServerApplication: Sendable {
    /// What the application was opened with.
    public let configuration: ServerConfiguration
    /// The core.
    public let authority: HealthAuthority
    /// Who is logged in where: give it to a server of this authority so notices reach the phones at once.
    public let sessions: SessionDirectory
    /// The store the core works on (as `decorateStore` returned it), for the operations console's reads.
    public let store: any AuthorityStore
    /// The PostgreSQL pool, when the database is PostgreSQL: a service of the group, started before it.
    private let pool: PostgresPool?
    private let logger: Logger

    /// Opens the store (`store` if given, else the configured SQLite database, or one in memory), loads the key file
    /// when the sealed scheme is used, and imports credentials.txt and tempIDs.txt (idempotently; malformed lines are
    /// logged with their line number and skipped). `observers` learn every event of the core.
    public static func open(
        configuration: ServerConfiguration,
        store givenStore: (any AuthorityStore)? = nil,
        clock: any WallClock = SystemWallClock(),
        observers: [any AuthorityObserver] = [],
        decorateStore: @Sendable (any AuthorityStore) -> any AuthorityStore = { $0 },
        logger: Logger
    ) async throws -> ServerApplication {
        var pool: PostgresPool?
        var store: any AuthorityStore
        if let givenStore {
            store = givenStore
        } else if let url = configuration.databasePath.flatMap(PostgresURL.init) {
            // Migrated over a connection of its own: a database that cannot be used is said so at once.
            do {
                try await PostgresStore.migrate(url, logger: logger)
            } catch {
                throw StoreError.unreachable(url: url.redacted, reason: "\(String(reflecting: error))")
            }
            let started = PostgresPool(url: url, logger: logger)
            pool = started
            store = PostgresStore(client: started.client, logger: logger)
        } else {
            store =
                try configuration.databasePath.map { $0 == ":memory:" ? try SQLiteStore() : try SQLiteStore(path: $0) }
                ?? SQLiteStore()
        }
        store = decorateStore(store)
        let hasher = PasswordHasher(parameters: configuration.passwordParameters)
        let keys = try keys(configuration, now: clock.now(), logger: logger)
        let sessions = SessionDirectory()
        let authority = HealthAuthority(
            store: store, hasher: hasher,
            dummyHash: try await NIOThreadPool.singleton.runIfActive { try hasher.hash("not a password") },
            loginPolicy: LoginPolicy(blockDuration: configuration.blockDuration),
            issuer: TempIDIssuer(
                scheme: configuration.tempIDScheme, policy: TempIDPolicy(lifetime: configuration.tempIDLifetime),
                sealedBatchSize: configuration.sealedBatchSize, store: store,
                keys: configuration.tempIDScheme == .sealed ? keys : nil,
                journal: try configuration.tempIDsPath.map { try TempIDJournal(path: $0) }, clock: clock,
                format: configuration.timeFormat),
            retentionDays: configuration.retentionDays, clock: clock, format: configuration.timeFormat,
            observers: observers + [sessions], logger: logger,
            uploadCodes: configuration.uploadCodes == .off
                ? nil
                : keys.map {
                    UploadCodeSettings(
                        keys: $0, policy: UploadCodePolicy(), required: configuration.uploadCodes == .required)
                },
            exposureNotices: configuration.exposureNotices)
        let application = ServerApplication(
            configuration: configuration, authority: authority, sessions: sessions, store: store, pool: pool,
            logger: logger)
        if let path = configuration.credentialsPath { try await application.importCredentials(from: path) }
        if let path = configuration.tempIDsPath { try await application.importTempIDs(from: path) }
        return application
    }

    /// The long-running parts, for one `ServiceGroup`: the server, answered by the core, the retention service, and
    /// the key file's watcher when there is a key file; `transportObserver` (metrics) learns of the server's
    /// connections and request latencies.
    public func services(
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        transportObserver: (any TransportObserver)? = nil,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) -> [any Service] {
        // The pool first: a group stops its services last to first, so the pool outlives the server.
        (pool.map { [$0] } ?? [])
            + [
                BlueTraceServer(
                    configuration: configuration, authority: authority, sessions: sessions,
                    transportObserver: transportObserver, logger: logger, eventLoopGroup: eventLoopGroup,
                    onListening: onListening),
                RetentionService(authority: authority, logger: logger),
            ]
            + (usesKeyFile ? [KeyFileWatcher(authority: authority, logger: logger)] : [])
            // SIGHUP reloads the certificate for new connections.
            + (configuration.tls.map { [TLSReloadService(contexts: [$0], logger: logger)] } ?? [])
    }

    /// Whether the server's keys live in a key file other instances may change.
    private var usesKeyFile: Bool {
        configuration.keyFilePath != nil && (configuration.tempIDScheme == .sealed || configuration.uploadCodes != .off)
    }

    /// The server's key ring for sealed TempIDs and upload codes: the key file's (created on first start), or the
    /// configuration's ring or a fresh one, kept in memory, when there is no file; none when neither is used.
    private static func keys(
        _ configuration: ServerConfiguration, now: Timestamp, logger: Logger
    ) throws
        -> KeyRingHolder?
    {
        guard configuration.tempIDScheme == .sealed || configuration.uploadCodes != .off else { return nil }
        guard let path = configuration.keyFilePath else {
            return KeyRingHolder(ring: configuration.keyRing ?? KeyRing.generate(at: now), path: nil)
        }
        let (ring, created) = try KeyFile.loadOrCreate(path: path, now: now)
        if created { logger.notice("created the server key file", metadata: ["path": "\(path)"]) }
        return KeyRingHolder(ring: ring, path: path)
    }

    private func importCredentials(from path: String) async throws {
        let text: String?
        do {
            text = try TextFile.readAll(path)
        } catch {
            throw ServerStartupError.credentialsUnreadable(path: path, reason: error.description)
        }
        guard let text else {
            logger.warning(
                "no credentials file; only accounts already in the database (or registered) can log in",
                metadata: ["path": "\(path)"])
            return
        }
        let credentials = CredentialsFile(parsing: text)
        for problem in credentials.problems {
            logger.warning(
                "skipped a credentials line",
                metadata: ["file": "\(path)", "line": "\(problem.line)", "reason": "\(problem.reason)"])
        }
        let (created, updated) = try await authority.importAccounts(credentials)
        logger.info(
            "imported credentials",
            metadata: ["file": "\(path)", "created": "\(created)", "updated": "\(updated)"])
    }

    private func importTempIDs(from path: String) async throws {
        let text: String?
        do {
            text = try TextFile.readAll(path)
        } catch {
            throw ServerStartupError.tempIDsUnusable(path: path, reason: error.description)
        }
        guard let text else { return }
        let file = TempIDFile(parsing: text, format: configuration.timeFormat)
        for problem in file.problems {
            logger.warning(
                "skipped a TempID line",
                metadata: ["file": "\(path)", "line": "\(problem.line)", "reason": "\(problem.reason)"])
        }
        let added = try await authority.importTempIDs(file.grants)
        logger.info("imported TempIDs", metadata: ["file": "\(path)", "new": "\(added)"])
    }
}
