/// What the virtual clients of a bench run do.
public enum BenchScenario: String, CaseIterable, Sendable {
    /// Download a TempID, again and again, on one logged-in connection per client.
    case tempid
    /// Upload a contact log of `uploadEntries` entries, again and again, on one logged-in connection per client.
    case upload
    /// Connect, log in and log out: a new connection for every operation.
    case login
    /// 80% TempID downloads, 15% uploads and 5% logins (on a connection of their own).
    case mixed
    /// Open the connections, log them in and hold them idle, to measure the server's memory per connection.
    case idle
}

/// One kind of request a bench run measures.
public enum BenchOperation: String, CaseIterable, Sendable, Codable, Comparable {
    /// Connect, log in, log out (a connection of its own).
    case login
    /// Download a TempID.
    case tempid
    /// Upload a contact log.
    case upload

    public static func < (lhs: BenchOperation, rhs: BenchOperation) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How hard and for how long a bench run drives the server.
public struct BenchOptions: Sendable {
    /// What the clients do.
    public var scenario: BenchScenario
    /// Virtual clients, each with a connection (and a test user) of its own.
    public var clients: Int
    /// How long operations are measured, after the warm-up; for `idle`, how long the connections are held.
    public var duration: Duration
    /// How long the clients run before measuring starts; what happens then is not counted.
    public var warmup: Duration
    /// Entries in each uploaded contact log.
    public var uploadEntries: Int
    /// Requests each connection keeps in flight (1: send one, wait for its reply, send the next).
    public var pipeline: Int
    /// The password of every test user.
    public var password: String
    /// How long to wait for the server: for a reply once the run's time is up, or for any client to finish setting
    /// up.
    public var timeout: Duration
    /// Clients setting up (connecting, logging in) at the same time, so a large run does not flood the server's
    /// accept queue.
    public var setupConcurrency: Int

    /// The password of the test users unless told otherwise.
    public static let defaultPassword = "bluetrace-bench"
    /// The most TempIDs a client downloads before the run to fill its uploads (entries repeat them in turn).
    public static let uploadPoolSize = 100
    /// The share of each operation in the `mixed` scenario, in percent.
    public static let mix: [(BenchOperation, Int)] = [(.tempid, 80), (.upload, 15), (.login, 5)]
    /// The most clients a run can have: one test user each, `+6149900` and five digits.
    public static let maximumClients = 100_000

    /// Creates options; the defaults are those of `bluetrace bench`.
    public init(
        scenario: BenchScenario,
        clients: Int = 10,
        duration: Duration = .seconds(10),
        warmup: Duration = .seconds(1),
        uploadEntries: Int = 100,
        pipeline: Int = 1,
        password: String = BenchOptions.defaultPassword,
        timeout: Duration = .seconds(60),
        setupConcurrency: Int = 64
    ) {
        self.scenario = scenario
        self.clients = clients
        self.duration = duration
        self.warmup = warmup
        self.uploadEntries = uploadEntries
        self.pipeline = pipeline
        self.password = password
        self.timeout = timeout
        self.setupConcurrency = setupConcurrency
    }

    /// The test user of client `index` (0-based): `+6149900` and the index in five digits.
    public static func username(forClient index: Int) -> String {
        let digits = String(index)
        return "+6149900" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// The operations this scenario performs.
    var operations: [BenchOperation] {
        switch scenario {
        case .tempid: [.tempid]
        case .upload: [.upload]
        case .login, .idle: [.login]
        case .mixed: Self.mix.map(\.0)
        }
    }

    /// Whether the clients need TempIDs of their own to upload.
    var needsUploadPool: Bool { operations.contains(.upload) }

    /// Checks the options, with a message saying what to change.
    public func validate() throws(BenchError) {
        guard (1...Self.maximumClients).contains(clients) else {
            throw .invalidOption("--clients must be from 1 to \(Self.maximumClients), not \(clients).")
        }
        guard duration > .zero else { throw .invalidOption("--duration must be more than 0 seconds.") }
        guard warmup >= .zero else { throw .invalidOption("--warmup must be 0 seconds or more.") }
        guard uploadEntries >= 1 else { throw .invalidOption("--upload-entries must be at least 1.") }
        guard (1...1000).contains(pipeline) else { throw .invalidOption("--pipeline must be from 1 to 1000.") }
        guard password.count >= 8 else {
            throw .invalidOption("--password must have at least 8 characters (the server's registration rule).")
        }
        guard timeout > .zero else { throw .invalidOption("--timeout must be more than 0 seconds.") }
        guard setupConcurrency >= 1 else { throw .invalidOption("the setup concurrency must be at least 1.") }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole microseconds (0 for negative durations).
    var microseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }
}
