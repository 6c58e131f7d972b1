import BlueTraceWire
import Histogram
import Logging
import NIOCore

/// Where a server's resident memory can be read during an `idle` run.
enum MemoryProbe: Sendable {
    /// The server runs in this process (`--spawn`): this process's memory, clients included.
    case thisProcess
    /// The server is process `pid`; this process's own memory is the clients'.
    case process(Int32)
    /// The server's process is not known.
    case none
}

/// What the load generator measured, before it is dressed as a report.
struct Measurement: Sendable {
    var recorder: LatencyRecorder
    var setup: Duration
    var measured: Duration
    var registered: (created: Int, existing: Int)
    var memory: MemoryReport?
    /// Processor time used during the measured window, and how long the window was.
    var cpu: (before: CPUSample, after: CPUSample, window: Duration)?
    var stoppedClients: Int
}

/// Drives one server with `options.clients` virtual clients, each a real connection in a child task of one task
/// group, and measures every operation: the engine of `bluetrace bench`.
struct LoadGenerator: Sendable {
    /// Connections that register the test users before the run.
    static let registrationConnections = 16

    let options: BenchOptions
    let connector: Connector
    let memoryProbe: MemoryProbe
    let logger: Logger
    let progress: @Sendable (String) -> Void

    private enum Child: Sendable {
        case client(LatencyRecorder)
        case ticker
        case watchdog
    }

    func run() async throws -> Measurement {
        try options.validate()
        let started = ContinuousClock.now
        let registered = try await registerUsers()
        logger.info(
            "test users ready",
            metadata: ["created": "\(registered.created)", "existing": "\(registered.existing)"])

        let before = try readMemory()
        let start = Gate<RunWindow>()
        let release = Gate<Void>()
        let (events, eventSink) = AsyncStream<SetupEvent>.makeStream()
        let clientCount = options.clients
        progress(
            options.scenario == .login
                ? "Checking that the \(clientCount) test users can log in…"
                : "Connecting and logging in \(clientCount) clients…")

        return try await withTaskGroup(of: Child.self) { group -> Result<Measurement, any Error> in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    eventSink.yield(.tick)
                }
                return .ticker
            }
            var launched = 0
            var ready = 0
            var failure: BenchError?
            var setupLogins = LatencyRecorder()
            var lastProgress = ContinuousClock.now
            let setupStarted = ContinuousClock.now
            while launched < min(clientCount, options.setupConcurrency) {
                group.addTask { [self, launched] in
                    .client(await client(launched, eventSink, start, release).run())
                }
                launched += 1
            }
            setup: for await event in events {
                switch event {
                case .ready(let microseconds):
                    ready += 1
                    lastProgress = ContinuousClock.now
                    if let microseconds { setupLogins.record(.login, microseconds: microseconds) }
                    if launched < clientCount {
                        group.addTask { [self, launched] in
                            .client(await client(launched, eventSink, start, release).run())
                        }
                        launched += 1
                    }
                    if ready == clientCount { break setup }
                case .failed(let error):
                    failure = error
                    break setup
                case .tick:
                    if ContinuousClock.now - lastProgress > options.timeout {
                        failure = .setupStalled(
                            seconds: Int(options.timeout.seconds), ready: ready, clients: clientCount)
                        break setup
                    }
                }
            }
            func stop(_ error: any Error) async -> Result<Measurement, any Error> {
                start.abort()
                release.abort()
                group.cancelAll()
                for await _ in group {}
                return .failure(error)
            }
            if let failure { return await stop(failure) }
            let setup = ContinuousClock.now - setupStarted

            var memory: MemoryReport?
            var cpuBefore: CPUSample?
            let runStarted = ContinuousClock.now
            let window: RunWindow
            if options.scenario == .idle {
                progress("Holding \(clientCount) idle logged-in connections for \(format(options.duration))…")
                try? await Task.sleep(for: options.duration)
                do {
                    memory = MemoryReport(connections: clientCount, before: before, after: try readMemory())
                } catch {
                    return await stop(error)
                }
                window = RunWindow(measureFrom: runStarted, end: ContinuousClock.now)
                release.open(())
            } else {
                window = RunWindow(
                    measureFrom: runStarted + options.warmup, end: runStarted + options.warmup + options.duration)
                progress(
                    "Running for \(format(options.duration))"
                        + (options.warmup > .zero ? " after a \(format(options.warmup)) warm-up…" : "…"))
                start.open(window)
                try? await Task.sleep(until: window.measureFrom, clock: .continuous)
                cpuBefore = readCPU()
            }
            let deadline = window.end + options.timeout
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return .watchdog
            }

            var recorder = options.scenario == .idle ? setupLogins : LatencyRecorder()
            var finished = 0
            var stopped = 0
            for await child in group {
                switch child {
                case .client(let result):
                    recorder.merge(result)
                    finished += 1
                    if finished == clientCount { group.cancelAll() }
                case .watchdog:
                    if finished < clientCount {
                        stopped = clientCount - finished
                        logger.warning(
                            "clients still waiting for replies after --timeout; stopping them",
                            metadata: ["clients": "\(stopped)"])
                        group.cancelAll()
                    }
                case .ticker:
                    break
                }
            }
            eventSink.finish()
            // Until every client is done: operations in flight at the end of the window still count.
            let cpu = cpuBefore.map { ($0, readCPU(), ContinuousClock.now - window.measureFrom) }
            let measured: Duration
            if options.scenario == .idle {
                measured = setup
            } else {
                let last = recorder.lastCompletion.map { max($0, window.end) } ?? window.end
                measured = last - window.measureFrom
            }
            logger.info("run finished", metadata: ["elapsed": "\(ContinuousClock.now - started)"])
            return .success(
                Measurement(
                    recorder: recorder, setup: setup, measured: measured, registered: registered, memory: memory,
                    cpu: cpu, stoppedClients: stopped))
        }.get()
    }

    private func client(
        _ index: Int, _ events: AsyncStream<SetupEvent>.Continuation, _ start: Gate<RunWindow>, _ release: Gate<Void>
    ) -> VirtualClient {
        VirtualClient(
            index: index, options: options, connector: connector, events: events, start: start, release: release,
            logger: logger)
    }

    /// Registers the test users over a few connections; users that exist already are reused.
    private func registerUsers() async throws -> (created: Int, existing: Int) {
        let clientCount = options.clients
        let workers = min(clientCount, Self.registrationConnections)
        progress(
            "Registering \(clientCount) test users (\(BenchOptions.username(forClient: 0))…"
                + "\(BenchOptions.username(forClient: clientCount - 1))); existing ones are reused…")
        let connector = self.connector
        let password = options.password
        return try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    try await connector.withConnection { connection in
                        var created = 0
                        for index in stride(from: worker, to: clientCount, by: workers) {
                            if try await connection.register(
                                BenchOptions.username(forClient: index), password: password)
                            {
                                created += 1
                            }
                        }
                        return (created, 0)
                    }
                }
            }
            var created = 0
            for try await (count, _) in group { created += count }
            return (created, clientCount - created)
        }
    }

    private func readMemory() throws -> MemorySample? {
        guard options.scenario == .idle else { return nil }
        switch memoryProbe {
        case .thisProcess:
            return MemorySample(server: try ProcessMemory.residentBytes(), client: nil)
        case .process(let pid):
            return MemorySample(
                server: try ProcessMemory.residentBytes(ofProcess: pid), client: try ProcessMemory.residentBytes())
        case .none:
            return MemorySample(server: nil, client: try? ProcessMemory.residentBytes())
        }
    }

    /// Processor time so far of the server (when known) and of this process (when the server runs apart).
    private func readCPU() -> CPUSample {
        switch memoryProbe {
        case .thisProcess: CPUSample(server: try? ProcessCPU.seconds(), client: nil)
        case .process(let pid):
            CPUSample(server: try? ProcessCPU.seconds(ofProcess: pid), client: try? ProcessCPU.seconds())
        case .none: CPUSample(server: nil, client: try? ProcessCPU.seconds())
        }
    }

    private func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}

/// Processor time read at one moment, in seconds: the server's, and this process's when the clients live apart.
struct CPUSample: Sendable {
    var server: Double?
    var client: Double?
}

/// Resident memory read at one moment: the server's, and this process's when the clients live apart from it.
struct MemorySample: Sendable {
    var server: Int?
    var client: Int?
}
