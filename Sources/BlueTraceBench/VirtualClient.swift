import BlueTraceDomain
import BlueTraceWire
import Logging

/// When a run's operations count: those started from `measureFrom` (the warm-up is over) until `end`.
struct RunWindow: Sendable {
    var measureFrom: ContinuousClock.Instant
    var end: ContinuousClock.Instant
}

/// What a client tells the coordinator while setting up.
enum SetupEvent: Sendable {
    /// The client is connected and logged in; for `idle`, how long connecting and logging in took.
    case ready(loginMicroseconds: UInt64?)
    /// The client could not set up; the run stops.
    case failed(BenchError)
    /// A second passed (to notice a setup that makes no progress).
    case tick
}

/// One virtual client: a test user with a connection of its own, running the scenario in a closed loop.
struct VirtualClient: Sendable {
    let index: Int
    let options: BenchOptions
    let connector: Connector
    let events: AsyncStream<SetupEvent>.Continuation
    let start: Gate<RunWindow>
    let release: Gate<Void>
    let logger: Logger

    var username: String { BenchOptions.username(forClient: index) }

    /// Sets up, waits for the start, runs until the window ends, and returns what it measured.
    func run() async -> LatencyRecorder {
        switch options.scenario {
        case .idle: await holdIdle()
        case .login: await runLogins()
        case .tempid, .upload, .mixed: await runSession()
        }
    }

    // MARK: Scenarios

    /// `idle`: connect, log in, tell the coordinator how long that took, and wait until it releases the clients.
    private func holdIdle() async -> LatencyRecorder {
        var recorder = LatencyRecorder()
        var ready = false
        do {
            let began = ContinuousClock.now
            try await connector.withConnection { connection in
                try await connection.login(username, password: options.password)
                events.yield(.ready(loginMicroseconds: (ContinuousClock.now - began).microseconds))
                ready = true
                guard case .opened = await release.wait() else { return }
                try await connection.logout()
            }
        } catch {
            if ready {
                recorder.failure(.login, "the connection failed while idle: \(error)")
            } else {
                events.yield(.failed(benchError(error, during: "connecting and logging in")))
            }
        }
        return recorder
    }

    /// `login`: every operation is a connection of its own: connect, log in, log out.
    private func runLogins() async -> LatencyRecorder {
        var recorder = LatencyRecorder()
        do {
            // Once before the start, so a wrong password stops the run instead of counting as errors.
            try await connector.withConnection { connection in
                try await connection.login(username, password: options.password)
                try await connection.logout()
            }
        } catch {
            events.yield(.failed(benchError(error, during: "logging in")))
            return recorder
        }
        events.yield(.ready(loginMicroseconds: nil))
        guard case .opened(let window) = await start.wait() else { return recorder }
        while ContinuousClock.now < window.end, !Task.isCancelled {
            await loginOperation(into: &recorder, window: window)
        }
        return recorder
    }

    /// `tempid`, `upload` and `mixed`: one logged-in connection, requests in a closed loop (`pipeline` in flight).
    /// A lost connection counts its requests in flight as errors, and the client connects again.
    private func runSession() async -> LatencyRecorder {
        var recorder = LatencyRecorder()
        var window: RunWindow?
        var upload: ClientMessage?
        // Encoded before the run, once: a closed loop sends it again and again.
        var encodedUpload: EncodedClientMessage?
        while true {
            do {
                try await connector.withConnection { connection in
                    try await connection.login(username, password: options.password)
                    if options.needsUploadPool, upload == nil {
                        upload = try await makeUpload(&connection)
                        if options.scenario == .upload { encodedUpload = EncodedClientMessage(upload!) }
                    }
                    if window == nil {
                        events.yield(.ready(loginMicroseconds: nil))
                        guard case .opened(let opened) = await start.wait() else { return }
                        window = opened
                    }
                    if options.scenario == .mixed {
                        var loop = RequestLoop(client: self, window: window!, upload: upload)
                        defer { recorder.merge(loop.recorder) }
                        try await loop.run(on: &connection)
                    } else {
                        // One kind of request: the whole loop runs on the connection's event loop.
                        let (measured, error) = try await connection.runClosedLoop(
                            ClosedLoop(
                                operation: options.scenario == .upload ? .upload : .tempid,
                                message: encodedUpload ?? EncodedClientMessage(.downloadTempID), window: window!,
                                pipeline: options.pipeline, uploadEntries: options.uploadEntries))
                        recorder.merge(measured)
                        if let error { throw error }
                    }
                    try? await connection.logout()
                }
                return recorder
            } catch {
                guard let window else {
                    events.yield(.failed(benchError(error, during: "connecting and logging in")))
                    return recorder
                }
                logger.debug(
                    "client connection failed", metadata: ["client": "\(username)", "error": "\(error)"])
                if Task.isCancelled || ContinuousClock.now >= window.end { return recorder }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    // MARK: Operations

    /// One login operation: connect, log in and log out on a connection of its own, timed from the connect to the
    /// `logged_out` reply.
    func loginOperation(into recorder: inout LatencyRecorder, window: RunWindow) async {
        let began = ContinuousClock.now
        var finished: ContinuousClock.Instant?
        do {
            try await connector.withConnection { connection in
                try await connection.login(username, password: options.password)
                try await connection.logout()
                finished = ContinuousClock.now
            }
            guard began >= window.measureFrom, let finished else { return }
            recorder.success(.login, latency: finished - began, completedAt: finished)
        } catch {
            guard began >= window.measureFrom else { return }
            recorder.failure(.login, "\(error)")
        }
    }

    /// The upload this client sends again and again: `uploadEntries` entries naming, in turn, TempIDs it downloads
    /// now (at most `BenchOptions.uploadPoolSize`), so every entry traces back to this client's user.
    private func makeUpload(_ connection: inout Connection) async throws -> ClientMessage {
        var pool: [IssuedTempID] = []
        for _ in 0..<min(options.uploadEntries, BenchOptions.uploadPoolSize) {
            pool.append(try await connection.downloadTempID())
        }
        return Self.upload(entries: options.uploadEntries, from: pool, heardAt: SystemWallClock().now())
    }

    /// An upload of `entries` encounters cycling through `pool`, all heard at `heardAt`.
    static func upload(entries: Int, from pool: [IssuedTempID], heardAt: Timestamp) -> ClientMessage {
        var list: [UploadEntry] = []
        list.reserveCapacity(entries)
        for index in 0..<entries {
            let issued = pool[index % pool.count]
            list.append(
                .encounter(ReportedEncounter(tempID: issued.tempID, validity: issued.validity, receivedAt: heardAt)))
        }
        return .uploadContactLog(list)
    }

    private func benchError(_ error: any Error, during what: String) -> BenchError {
        if let error = error as? BenchError { return error }
        return .connectionClosed(during: "\(what) (\(error))")
    }
}

/// The closed loop of one `mixed` connection (other scenarios run a `ClosedLoop` on the event loop): keeps
/// `pipeline` requests in flight until the window ends, then drains them; a login is a connection of its own.
private struct RequestLoop {
    let client: VirtualClient
    let window: RunWindow
    let upload: ClientMessage?
    var recorder = LatencyRecorder()
    private var inFlight: [(operation: BenchOperation, id: UInt64, sentAt: ContinuousClock.Instant)] = []
    private var random = SystemRandomNumberGenerator()

    init(client: VirtualClient, window: RunWindow, upload: ClientMessage?) {
        self.client = client
        self.window = window
        self.upload = upload
    }

    mutating func run(on connection: inout Connection) async throws {
        let pipeline = client.options.pipeline
        while true {
            while inFlight.count < pipeline, ContinuousClock.now < window.end {
                let operation = nextOperation()
                if operation == .login {
                    // A login is a connection of its own; it does not overlap this connection's requests.
                    while !inFlight.isEmpty { try await receiveOne(on: &connection) }
                    await client.loginOperation(into: &recorder, window: window)
                    continue
                }
                let sentAt = ContinuousClock.now
                do {
                    let id = try await connection.send(operation == .tempid ? .downloadTempID : upload!)
                    inFlight.append((operation, id, sentAt))
                } catch {
                    inFlight.append((operation, 0, sentAt))
                    failAllInFlight("\(error)")
                    throw error
                }
            }
            if inFlight.isEmpty { return }
            try await receiveOne(on: &connection)
        }
    }

    private mutating func nextOperation() -> BenchOperation {
        switch client.options.scenario {
        case .tempid: return .tempid
        case .upload: return .upload
        case .login, .idle: return .login
        case .mixed:
            var draw = Int.random(in: 0..<100, using: &random)
            for (operation, share) in BenchOptions.mix {
                if draw < share { return operation }
                draw -= share
            }
            return .tempid
        }
    }

    private mutating func receiveOne(on connection: inout Connection) async throws {
        let frame: ServerFrame
        do {
            frame = try await connection.receive(during: inFlight[0].operation.rawValue)
        } catch {
            failAllInFlight(Task.isCancelled ? "no reply within --timeout after the end of the run" : "\(error)")
            throw error
        }
        let (operation, id, sentAt) = inFlight.removeFirst()
        let done = ContinuousClock.now
        let counted = sentAt >= window.measureFrom
        guard frame.id == nil || frame.id == id else {
            let error = BenchError.unexpectedReply(
                request: operation.rawValue, reply: "a reply to request \(frame.id ?? 0) instead of \(id)")
            if counted { recorder.failure(operation, "\(error)") }
            failAllInFlight("\(error)")
            throw error
        }
        guard counted else { return }
        ClosedLoop.judge(
            operation, frame.message, latency: done - sentAt, completedAt: done,
            uploadEntries: client.options.uploadEntries, into: &recorder)
    }

    /// Counts every request still in flight as failed (the connection is gone).
    private mutating func failAllInFlight(_ message: String) {
        for request in inFlight where request.sentAt >= window.measureFrom {
            recorder.failure(request.operation, message)
        }
        inFlight.removeAll()
    }
}
