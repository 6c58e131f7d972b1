import BlueTraceDomain
import BlueTraceServer
import BlueTraceTLS
import BlueTraceWire
import Foundation
import Histogram
import Logging
import NIOCore
import NIOPosix

/// Where a bench run sends its load.
public enum BenchTarget: Sendable {
    /// A server that is already running; `processID`, when given, is where its memory is read (`idle`); `tls`:
    /// connect over TLS.
    case server(host: String, port: Int, processID: Int32?, tls: TLSClientContext? = nil)
    /// A server started inside this process for the run, and stopped after it.
    case spawn(SpawnOptions)
}

/// Bench runs: the library behind `bluetrace bench`.
public enum Bench {
    /// Runs `options` against `target` and returns the report. `progress` is told what is happening, for a person
    /// watching.
    public static func run(
        options: BenchOptions,
        target: BenchTarget,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> BenchReport {
        try options.validate()
        var notes: [String] = []
        var frameBytes: Int?
        if options.needsUploadPool {
            let (bytes, encoding) = UploadPayload.measure(entries: options.uploadEntries)
            frameBytes = bytes
            notes.append(
                "Each upload of 20-digit TempIDs is a \(UploadPayload.describe(bytes: bytes)) frame "
                    + "(of sealed ones, about 1.6 times that); encoding it as JSON takes this client "
                    + String(format: "%.1f ms", encoding.seconds * 1000)
                    + (options.scenario == .upload
                        ? ", once per client before the run (each upload resends those bytes under its own request id, "
                            + "so the latency is the server's and the network's)"
                        : ", which is part of the upload latency")
                    + ". Entries repeat up to "
                    + "\(BenchOptions.uploadPoolSize) TempIDs each client downloaded before the run.")
        }
        switch target {
        case .server(let host, let port, let processID, let tls):
            try FileDescriptorLimit.ensure(atLeast: fileDescriptorsNeeded(options, bothEnds: false))
            let connector = Connector(host: host, port: port, tls: tls, eventLoopGroup: eventLoopGroup)
            let generator = LoadGenerator(
                options: options, connector: connector, memoryProbe: processID.map { .process($0) } ?? .none,
                logger: logger, progress: progress)
            if options.scenario == .idle, processID == nil {
                notes.append("The server's memory was not measured: pass its process id with --server-pid.")
            }
            let measurement = try await generator.run()
            return report(
                options: options, measurement: measurement,
                server: ServerDescription(
                    address: "\(host):\(port)", spawned: false, processID: processID, tls: tls != nil ? true : nil),
                notes: notes)
        case .spawn(var spawnOptions):
            if let frameBytes {
                spawnOptions.maximumFrameSize = max(spawnOptions.maximumFrameSize, frameBytes + frameBytes / 2 + 4096)
            }
            let spawn = spawnOptions
            let notes = notes
            try FileDescriptorLimit.ensure(atLeast: fileDescriptorsNeeded(options, bothEnds: true), bothEnds: true)
            progress(
                spawn.stub
                    ? "Starting the protocol stub in this process…"
                    : "Starting a server in this process (\(spawn.database.rawValue) database, scrypt cost "
                        + "\(spawn.passwordCost))…")
            return try await InProcessServer.run(options: spawn, logger: logger, eventLoopGroup: eventLoopGroup) {
                address in
                let connector = Connector(
                    host: address.host, port: address.port, tls: address.tls, eventLoopGroup: eventLoopGroup)
                let generator = LoadGenerator(
                    options: options, connector: connector, memoryProbe: .thisProcess, logger: logger,
                    progress: progress)
                let measurement = try await generator.run()
                return report(
                    options: options, measurement: measurement,
                    server: ServerDescription(
                        address: "\(address.host):\(address.port)", spawned: true,
                        database: spawn.stub ? nil : spawn.database.rawValue,
                        passwordCost: spawn.stub ? nil : spawn.passwordCost, processID: getpid(),
                        stub: spawn.stub ? true : nil, tls: spawn.tls ? true : nil),
                    notes: notes)
            }
        }
    }

    /// File descriptors the run needs: a connection per client (two while a `mixed` client logs in), twice that when
    /// both ends of every connection are in this process, and a few for the rest (the registration connections are
    /// closed before the clients connect).
    static func fileDescriptorsNeeded(_ options: BenchOptions, bothEnds: Bool) -> Int {
        let perClient = options.scenario == .mixed ? 2 : 1
        return options.clients * perClient * (bothEnds ? 2 : 1) + 64
    }

    private static func report(
        options: BenchOptions, measurement: Measurement, server: ServerDescription, notes: [String]
    ) -> BenchReport {
        let seconds = max(measurement.measured.seconds, 1e-9)
        var notes = notes
        if measurement.registered.created > 0 || measurement.registered.existing > 0 {
            notes.insert(
                "Test users: \(measurement.registered.created) registered, \(measurement.registered.existing) reused.",
                at: 0)
        }
        if options.scenario == .idle {
            notes.append(
                "The login row times connecting and logging in while the connections were opened "
                    + "(\(options.setupConcurrency) at a time).")
        }
        if measurement.stoppedClients > 0 {
            notes.append(
                "\(measurement.stoppedClients) clients still had no reply \(Int(options.timeout.seconds)) s after the "
                    + "end and were stopped (--timeout).")
        }
        let operations = options.operations.sorted().map { operation -> OperationReport in
            let tally = measurement.recorder.tallies[operation] ?? OperationTally()
            let latencies = tally.latencies
            let count = Int(latencies.totalCount)
            return OperationReport(
                operation: operation, count: count, opsPerSecond: (Double(count) / seconds * 10000).rounded() / 10000,
                latencyMicroseconds: LatencyPercentiles(
                    p50: latencies.valueAtPercentile(50), p90: latencies.valueAtPercentile(90),
                    p99: latencies.valueAtPercentile(99), max: latencies.maxRecorded),
                errors: tally.errors,
                entriesPerSecond: operation == .upload ? (Double(tally.tracedEntries) / seconds).rounded() : nil)
        }
        let countedOperations = operations.reduce(0) { $0 + $1.count + $1.errors }
        let cpu = measurement.cpu.map {
            CPUReport(before: $0.before, after: $0.after, window: $0.window, operations: countedOperations)
        }
        return BenchReport(
            scenario: options.scenario.rawValue, clients: options.clients, pipeline: options.pipeline,
            uploadEntries: options.needsUploadPool ? options.uploadEntries : nil,
            warmupSeconds: options.scenario == .idle ? 0 : options.warmup.seconds,
            measuredSeconds: (seconds * 1000).rounded() / 1000,
            setupSeconds: (measurement.setup.seconds * 1000).rounded() / 1000, server: server,
            operations: operations, memory: measurement.memory, cpu: cpu,
            errorSamples: measurement.recorder.errorSamples,
            notes: notes)
    }
}

/// The size and encoding cost of the upload frames a run sends.
enum UploadPayload {
    /// Encodes an upload of `entries` entries shaped like the real ones (20-digit TempIDs, Unix times) and returns
    /// its payload size and how long encoding took.
    static func measure(entries: Int) -> (bytes: Int, encoding: Duration) {
        let now = SystemWallClock().now()
        let sample = IssuedTempID(
            tempID: TempID("12345678901234567890")!,
            validity: ValidityWindow(start: now, expiry: now + TempIDPolicy.standardLifetime))
        let frame = ClientFrame(
            id: 1, message: VirtualClient.upload(entries: entries, from: [sample], heardAt: now))
        let began = ContinuousClock.now
        let bytes = MessageCoder().encode(frame, allocator: ByteBufferAllocator()).readableBytes
        return (bytes + Framing.headerSize, ContinuousClock.now - began)
    }

    static func describe(bytes: Int) -> String {
        if bytes >= 1_048_576 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        if bytes >= 1024 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return "\(bytes)-byte"
    }
}
