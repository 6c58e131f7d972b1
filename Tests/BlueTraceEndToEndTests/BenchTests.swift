import BlueTraceBench
import BlueTraceTLS
import Foundation
import Testing

/// `bluetrace bench` against real servers over loopback: every scenario runs, counts, and reports. No timing
/// assertions: how fast the server is belongs in docs/BENCHMARKS.md, not in unit tests.
@Suite("Load generator", .serialized)
struct BenchTests {
    /// A short run with 4 clients against a server in this process.
    private func shortRun(
        _ scenario: BenchScenario, database: SpawnOptions.Database = .memory, pipeline: Int = 1
    ) async throws -> BenchReport {
        let options = BenchOptions(
            scenario: scenario, clients: 4, duration: .seconds(1), warmup: .milliseconds(200), uploadEntries: 20,
            pipeline: pipeline)
        return try await Bench.run(
            options: options, target: .spawn(SpawnOptions(database: database)), logger: quietLogger)
    }

    @Test(
        "Every scenario completes operations with no errors and reports every percentile",
        arguments: BenchScenario.allCases)
    func everyScenario(_ scenario: BenchScenario) async throws {
        let report = try await shortRun(scenario)
        #expect(report.scenario == scenario.rawValue)
        #expect(report.clients == 4)
        #expect(report.totalErrors == 0, "errors: \(report.errorSamples)")
        #expect(!report.operations.isEmpty)
        // In a 1-second mixed run the rare operations may not come up; the frequent one must.
        let required = report.operations.filter { scenario != .mixed || $0.operation == .tempid }
        for row in required {
            #expect(row.count > 0, "no \(row.operation.rawValue) completed")
            #expect(row.opsPerSecond > 0)
        }
        for row in report.operations where row.count > 0 {
            let latency = row.latencyMicroseconds
            #expect(latency.max > 0)
            #expect(latency.p50 <= latency.p90 && latency.p90 <= latency.p99 && latency.p99 <= latency.max)
        }
        if scenario == .upload {
            #expect(report.uploadEntries == 20)
            #expect((report.operations.first?.entriesPerSecond ?? 0) > 0, "every uploaded entry is traced")
        }
        if scenario != .idle {
            #expect(report.cpu?.server != nil, "with --spawn the processor time of this process is measured")
        }
        if scenario == .idle {
            #expect(report.operations.map(\.operation) == [.login])
            #expect(report.operations.first?.count == 4, "each idle connection logged in once")
            let server = try #require(report.memory?.server, "with --spawn the memory of this process is measured")
            #expect(server.beforeBytes > 0 && server.afterBytes > 0)
        }

        let table = report.table()
        for column in ["operation", "count", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"] {
            #expect(table.contains(column))
        }
        let decoded = try JSONDecoder().decode(BenchReport.self, from: Data(report.json().utf8))
        #expect(decoded == report)
    }

    @Test("A file database and pipelined requests work too")
    func fileDatabaseAndPipeline() async throws {
        let report = try await shortRun(.tempid, database: .file, pipeline: 4)
        #expect(report.totalErrors == 0, "errors: \(report.errorSamples)")
        #expect(report.pipeline == 4)
        #expect((report.operations.first?.count ?? 0) > 0)
    }

    @Test("The protocol stub answers every scenario's requests, and the report says it was the stub")
    func stubServer() async throws {
        for scenario in [BenchScenario.tempid, .upload, .mixed] {
            let options = BenchOptions(
                scenario: scenario, clients: 3, duration: .milliseconds(500), warmup: .zero, uploadEntries: 5)
            let report = try await Bench.run(
                options: options, target: .spawn(SpawnOptions(stub: true)), logger: quietLogger)
            #expect(report.totalErrors == 0, "errors: \(report.errorSamples)")
            #expect(report.server.stub == true)
            #expect(report.table().contains("protocol stub"))
            #expect((report.operations.first { $0.operation == .tempid || $0.operation == .upload }?.count ?? 0) > 0)
        }
    }

    @Test("bench --tls: against a TLS server process (its CA given), and --spawn --tls, every request over TLS")
    func overTLS() async throws {
        let directory = try TestDirectory()
        let files = try DevelopmentCertificates.write(to: "\(directory.path)/certs")
        let server = try await ServerProcess(
            directory: directory.path,
            arguments: ["--tls-cert", files.serverCertificate, "--tls-key", files.serverKey])
        let tls = try TLSClientTrust(certificateAuthorityPath: files.certificateAuthority).makeContext()
        for scenario in [BenchScenario.tempid, .login] {
            let report = try await Bench.run(
                options: BenchOptions(scenario: scenario, clients: 3, duration: .milliseconds(500), warmup: .zero),
                target: .server(
                    host: "127.0.0.1", port: server.port, processID: server.process.processIdentifier, tls: tls),
                logger: quietLogger)
            #expect(report.totalErrors == 0, "errors: \(report.errorSamples)")
            #expect((report.operations.first?.count ?? 0) > 0)
            #expect(report.table().contains("over TLS"))
        }
        #expect(await server.stop(signal: SIGTERM) == 0)
        for stub in [false, true] {
            let report = try await Bench.run(
                options: BenchOptions(scenario: .tempid, clients: 3, duration: .milliseconds(500), warmup: .zero),
                target: .spawn(SpawnOptions(database: .memory, stub: stub, tls: true)), logger: quietLogger)
            #expect(report.totalErrors == 0, "errors: \(report.errorSamples)")
            #expect((report.operations.first?.count ?? 0) > 0)
            #expect(report.server.tls == true)
        }
    }

    @Test("Against a server in another process: users are reused, and both processes' memory is measured")
    func separateServerProcess() async throws {
        let directory = try TestDirectory()
        let server = try await ServerProcess(directory: directory.path)
        let pid = server.process.processIdentifier
        let target = BenchTarget.server(host: "127.0.0.1", port: server.port, processID: pid)
        let first = try await Bench.run(
            options: BenchOptions(scenario: .tempid, clients: 3, duration: .milliseconds(500), warmup: .zero),
            target: target, logger: quietLogger)
        #expect(first.totalErrors == 0, "errors: \(first.errorSamples)")
        #expect(first.notes.contains { $0.contains("3 registered, 0 reused") })
        #expect(first.cpu?.server != nil && first.cpu?.client != nil)

        let idle = try await Bench.run(
            options: BenchOptions(scenario: .idle, clients: 3, duration: .milliseconds(300)),
            target: target, logger: quietLogger)
        #expect(idle.totalErrors == 0, "errors: \(idle.errorSamples)")
        #expect(idle.notes.contains { $0.contains("0 registered, 3 reused") })
        #expect(idle.server.processID == pid)
        #expect(idle.memory?.server != nil)
        #expect(idle.memory?.client != nil)
        #expect(await server.stop(signal: SIGTERM) == 0)
    }

    @Test("Test users that exist with another password stop the run with advice")
    func wrongPassword() async throws {
        let directory = try TestDirectory()
        let server = try await ServerProcess(directory: directory.path)
        let target = BenchTarget.server(host: "127.0.0.1", port: server.port, processID: nil)
        _ = try await Bench.run(
            options: BenchOptions(scenario: .tempid, clients: 1, duration: .milliseconds(100), warmup: .zero),
            target: target, logger: quietLogger)
        await #expect(throws: BenchError.self) {
            try await Bench.run(
                options: BenchOptions(
                    scenario: .tempid, clients: 1, duration: .milliseconds(100), password: "another password"),
                target: target, logger: quietLogger)
        }
        do {
            _ = try await Bench.run(
                options: BenchOptions(scenario: .login, clients: 1, password: "another password"),
                target: target, logger: quietLogger)
            Issue.record("a wrong password should stop the run")
        } catch let error as BenchError {
            #expect(error.description.contains("--password"))
        }
    }

    @Test("A server that refuses the bench's connections: the errors say which option of the server to raise")
    func connectionRateLimit() async throws {
        let directory = try TestDirectory()
        let server = try await ServerProcess(directory: directory.path, arguments: ["--connections-per-second", "0.5"])
        // Burst of one connection: registering the two test users already needs a second.
        let error = await #expect(throws: BenchError.self) {
            try await Bench.run(
                options: BenchOptions(scenario: .login, clients: 2, duration: .milliseconds(500), warmup: .zero),
                target: .server(host: "127.0.0.1", port: server.port, processID: nil), logger: quietLogger)
        }
        #expect(error?.description.contains("--connections-per-second") == true, "\(String(describing: error))")
    }

    @Test("No server: a clear error, and the command asks for <host> <port> or --spawn")
    func noServer() async throws {
        await #expect(throws: BenchError.self) {
            try await Bench.run(
                options: BenchOptions(scenario: .tempid, clients: 1),
                target: .server(host: "127.0.0.1", port: 1, processID: nil), logger: quietLogger)
        }
        let directory = try TestDirectory()
        let (status, _, errors) = try await runBluetrace(["bench"], in: directory.path)
        #expect(status != 0)
        #expect(errors.contains("bluetrace bench <host> <port>, or pass --spawn"))
    }

    @Test("bluetrace bench --spawn --json prints only the report, as JSON")
    func commandJSON() async throws {
        let directory = try TestDirectory()
        let (status, output, _) = try await runBluetrace(
            [
                "bench", "--spawn", "--scenario", "tempid", "--clients", "2", "--duration", "0.5", "--warmup", "0",
                "--spawn-database", "memory", "--json",
            ], in: directory.path)
        #expect(status == 0)
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(output.utf8))
        #expect(report.server.spawned)
        #expect(report.server.passwordCost == 10)
        #expect((report.operations.first?.count ?? 0) > 0)
    }
}
