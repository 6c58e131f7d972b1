import ArgumentParser
import BlueTraceBench
import BlueTraceServer
import Foundation
import Logging

extension BenchScenario: ExpressibleByArgument {}
extension SpawnOptions.Database: ExpressibleByArgument {}
extension TraceBenchmark.Scheme: ExpressibleByArgument {}

/// `bluetrace bench`: a load generator in the spirit of redis-benchmark and pgbench.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Drive a server with many clients and report throughput and latency percentiles per operation.",
        discussion: """
            Each client is a real TCP connection with a test user of its own (+6149900NNNNN, registered or reused), \
            sending one request at a time (or --pipeline N). Scenarios: tempid (download TempIDs), upload (upload \
            contact logs of --upload-entries entries), login (connect, log in, log out), mixed (80% tempid, 15% \
            upload, 5% login), idle (hold logged-in connections and report the server's resident memory per \
            connection; pass --server-pid for a server in another process). With --spawn the bench starts its own \
            server in this process, so one command measures the whole stack. Exits with status 1 when any \
            operation failed.
            """
    )

    @Argument(help: "The server's address (leave out with --spawn).")
    var host: String?

    @Argument(help: "The server's TCP port (leave out with --spawn).")
    var port: Int?

    @Option(help: "What the clients do: tempid, upload, login, mixed or idle.")
    var scenario: BenchScenario = .tempid

    @Option(help: "Virtual clients, each with its own connection and test user.")
    var clients = 10

    @Option(help: "Seconds to measure (idle: seconds to hold the connections open).")
    var duration: Double = 10

    @Option(help: "Seconds to run before measuring; what happens then is not counted.")
    var warmup: Double = 1

    @Option(help: "Entries in each uploaded contact log (upload and mixed).")
    var uploadEntries = 100

    @Option(help: "Requests each connection keeps in flight.")
    var pipeline = 1

    @Option(help: "The password of the test users.")
    var password = BenchOptions.defaultPassword

    @Option(help: "Seconds to wait for replies after the end of the run, or for any progress while setting up.")
    var timeout: Double = 60

    @Flag(help: "Print the report as JSON (latencies in microseconds) instead of a table.")
    var json = false

    @Flag(help: "Start a server in this process on a free loopback port for the run, and stop it after.")
    var spawn = false

    @Option(help: "With --spawn: keep the server's database in memory or in a file in a temporary directory.")
    var spawnDatabase: SpawnOptions.Database?

    @Option(help: "With --spawn: scrypt cost of the test users' passwords, as log2 of the rounds (default 10).")
    var passwordCost: Int?

    @Flag(help: ArgumentHelp(Self.stubHelp))
    var stubServer = false
    private static let stubHelp =
        "With --spawn: start the protocol stub instead of the server (canned replies, nothing behind them), to "
        + "measure the ceiling the transport alone puts on this machine."

    @Option(name: .customLong("server-pid"), help: "The server's process id, to measure its memory (idle).")
    var serverPID: Int32?

    @OptionGroup var tls: ClientTLSOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if spawn {
            guard host == nil, port == nil else {
                throw ValidationError("--spawn starts its own server: leave out <host> and <port>.")
            }
            guard serverPID == nil else {
                throw ValidationError("--server-pid is for a server in another process; with --spawn it is this one.")
            }
            guard tls.certificateAuthority == nil else {
                throw ValidationError(
                    "--tls-ca is for a running server; with --spawn --tls the bench makes its own certificate.")
            }
        } else {
            guard let port else {
                throw ValidationError(
                    "Say which server to measure: bluetrace bench <host> <port>, or pass --spawn to start one in "
                        + "this process.")
            }
            guard (1...65_535).contains(port) else {
                throw ValidationError("<port> must be a port number from 1 to 65535, not \(port).")
            }
            guard spawnDatabase == nil, passwordCost == nil, !stubServer else {
                throw ValidationError(
                    "--spawn-database, --password-cost and --stub-server set up the server --spawn starts; a running "
                        + "server keeps its own settings.")
            }
        }
        guard duration.isFinite, warmup.isFinite, timeout.isFinite else {
            throw ValidationError("--duration, --warmup and --timeout must be numbers of seconds.")
        }
        do {
            try options.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    private var options: BenchOptions {
        BenchOptions(
            scenario: scenario, clients: clients, duration: Self.duration(duration),
            warmup: Self.duration(warmup), uploadEntries: uploadEntries, pipeline: pipeline, password: password,
            timeout: Self.duration(timeout))
    }

    private static func duration(_ seconds: Double) -> Duration {
        .microseconds(Int64((seconds * 1_000_000).rounded()))
    }

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        let logger = Logger(label: "bluetrace.bench")
        let target: BenchTarget =
            spawn
            ? .spawn(
                SpawnOptions(
                    database: spawnDatabase ?? .file, passwordCost: passwordCost ?? 10, stub: stubServer,
                    tls: tls.enabled))
            : .server(host: host ?? "127.0.0.1", port: port ?? 0, processID: serverPID, tls: try tls.makeContext())
        let json = self.json
        let report = try await Bench.run(options: options, target: target, logger: logger) { line in
            if json {
                logger.info("\(line)")
            } else {
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        }
        print(json ? report.json() : "\n" + report.table())
        if report.totalErrors > 0 { throw ExitCode(1) }
    }
}

/// `bluetrace trace-bench`: how fast an upload is traced against a store of many TempID mappings.
struct TraceBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace-bench",
        abstract: "Measure tracing: load TempID mappings into a fresh SQLite store, then trace one large upload."
    )

    @Option(help: "The upload's TempIDs: decimal (traced through the store's mappings) or sealed (opened).")
    var scheme: TraceBenchmark.Scheme = .decimal
    @Option(help: "TempID mappings to load into the store (decimal).") var mappings = 1_000_000
    @Option(help: "Entries in the traced upload.") var entries = 100_000
    @Option(help: "Distinct TempIDs among the entries (default: as many as the entries, at most --mappings).")
    var distinct: Int?
    @Option(help: "Directory for the temporary database (removed afterwards).") var directory: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard mappings >= 1, entries >= 1, (distinct ?? 1) >= 1 else {
            throw ValidationError("--mappings, --entries and --distinct must be positive.")
        }
    }

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        // The server's allocator settings, so that the benchmark measures the server's path.
        MallocTuning.apply()
        let base = directory ?? FileManager.default.temporaryDirectory.path
        let folder = "\(base)/bluetrace-trace-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await TraceBenchmark.run(
            scheme: scheme, mappings: mappings, entries: entries, distinct: distinct, directory: folder,
            logger: Logger(label: "bluetrace.trace-bench"))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            let loaded =
                result.scheme == .decimal
                ? String(format: "Loaded %d TempID mappings in %.1f s.", result.mappings, result.loadSeconds)
                : String(format: "Issued %d sealed TempIDs in %.1f s.", result.mappings, result.loadSeconds)
            print(loaded)
            print(
                String(
                    format: "Traced %d entries (%d distinct TempIDs, %d matched) in %.2f s: %.0f entries/s.",
                    result.entries, result.distinct, result.matched, result.traceSeconds, result.entriesPerSecond))
            print(
                String(
                    format: "Stored %.1f bytes per entry; peak memory %.0f MiB; store reopened in %.2f s.",
                    result.storedBytesPerEntry, Double(result.peakResidentBytes) / 1_048_576, result.reopenSeconds))
        }
    }
}

/// `bluetrace stub-server <port>`: the protocol stub in a process of its own.
struct StubServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stub-server",
        abstract: "Serve the protocol with canned replies (no store, no hashing) until Ctrl-C.",
        discussion: """
            The transport's ceiling, measured from another process: bluetrace bench 127.0.0.1 <port> --server-pid \
            <pid> reports the processor time the stub spends per request, beside a real server's.
            """
    )

    @Argument(help: "The TCP port to listen on.")
    var port: Int

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("<port> must be a port number from 0 to 65535, not \(port).")
        }
    }

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        try await StubServer.run(host: host, port: port, logger: Logger(label: "bluetrace.stub"))
    }
}
