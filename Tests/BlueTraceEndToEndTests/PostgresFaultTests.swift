import BlueTraceCLI
import BlueTraceClient
import BlueTracePostgres
import BlueTraceServer
import Foundation
import PostgresNIO
import Testing

/// Whether PostgreSQL is here to test against (`.ci/run` installs it and sets BLUETRACE_TEST_POSTGRES).
private let postgresAvailable = ProcessInfo.processInfo.environment["BLUETRACE_TEST_POSTGRES"] != nil

/// A PostgreSQL cluster of the test's own (scripts/postgres-cluster.sh), which it may stop and start again.
private struct Cluster: ~Copyable {
    let directory: String
    let url: String

    init() async throws {
        directory = "/tmp/bluetrace-fault-\(UUID().uuidString.prefix(8))"
        let started = try await runScript("postgres-cluster.sh", ["start", directory])
        guard started.status == 0 else { throw ClusterError(step: "start", errors: started.errors) }
        url = started.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the database (fast shutdown: sessions are cut), keeping its data and port.
    func pause() async throws {
        let paused = try await runScript("postgres-cluster.sh", ["pause", directory])
        guard paused.status == 0 else { throw ClusterError(step: "pause", errors: paused.errors) }
    }

    /// Starts it again on the same port.
    func resume() async throws {
        let resumed = try await runScript("postgres-cluster.sh", ["resume", directory])
        guard resumed.status == 0 else { throw ClusterError(step: "resume", errors: resumed.errors) }
    }

    /// Stops it and removes its directory.
    consuming func remove() async {
        _ = try? await runScript("postgres-cluster.sh", ["stop", directory])
    }
}

/// The number `query` (one row, one bigint column) answers in the database at `url`.
func scalar(_ query: String, in url: String) async throws -> Int {
    try await #require(PostgresURL(url)).withConnection(logger: quietLogger) { connection in
        var value = 0
        for try await found in try await connection.query(PostgresQuery(unsafeSQL: query), logger: quietLogger)
            .decode(Int64.self)
        {
            value = Int(found)
        }
        return value
    }
}

/// scripts/postgres-cluster.sh failed.
private struct ClusterError: Error, CustomStringConvertible {
    let step: String
    let errors: String
    var description: String { "postgres-cluster.sh \(step) failed: \(errors)" }
}

/// The database going away under running servers, and a server killed under load.
@Suite(
    "PostgreSQL faults", .enabled(if: postgresAvailable, "set BLUETRACE_TEST_POSTGRES (see the README)"),
    .serialized)
struct PostgresFaultTests {
    @Test("The database goes away: requests are answered `unavailable`, nothing is stored; it comes back: all is well")
    func databaseGoesAwayAndComesBack() async throws {
        let cluster = try await Cluster()
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        let server = try await ServerProcess(directory: directory.path, arguments: ["--database", cluster.url])
        let sender = try await phoneClient(port: server.port, directory: directory.path)
        await sender.type("+61410888888", "comp3331", "Download_tempID")
        try await sender.expect("> TempID:")
        let receiver = try await phoneClient(port: server.port, directory: directory.path)
        await receiver.type("+61410666666", "kara1234")
        try await receiver.expect("Welcome to the BlueTrace Simulator!")
        await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
        do {
            try await receiver.expect("The beacon is valid.")
        } catch {
            // The receiver's transcript is in the error; the sender's says whether the beacon left.
            Issue.record("the sender's transcript: \(sender.screen.lines.joined(separator: " | "))")
            throw error
        }

        try await cluster.pause()
        var before = sender.screen.lines.count
        await sender.type("Download_tempID")
        try await sender.expect("> Could not download a TempID: \(ServerText.unavailable)", from: before)
        before = receiver.screen.lines.count
        await receiver.type("Upload_contact_log")
        try await receiver.expect("> The upload failed: \(ServerText.unavailable)", from: before)
        #expect(server.process.isRunning, "the server keeps running without its database")

        try await cluster.resume()
        // The pool reconnects on the next request after its back-off; ask until it has (the back-off starts at 0.1 s).
        let deadline = ContinuousClock.now + .seconds(30)
        var downloaded = false
        while !downloaded && ContinuousClock.now < deadline {
            before = sender.screen.lines.count
            await sender.type("Download_tempID")
            // Either "> TempID:" or "> Could not download a TempID: …".
            let line = try await sender.expect("TempID", from: before)
            downloaded = sender.screen.lines[line].hasPrefix("> TempID:")
            if !downloaded { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(downloaded, "the server reconnected")
        before = receiver.screen.lines.count
        await receiver.type("Upload_contact_log")
        try await receiver.expect("the server received 1 entry and traced 1.", from: before)

        // Only the upload acknowledged is stored: the refused one left nothing.
        #expect(try await scalar("SELECT count(*) FROM upload", in: cluster.url) == 1)
        #expect(await server.stop(signal: SIGTERM) == 0)
        await cluster.remove()
    }
}
