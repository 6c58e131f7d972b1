import BlueTraceCLI
import BlueTraceClient
import BlueTracePostgres
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Testing

/// The PostgreSQL server of the tests ($BLUETRACE_TEST_POSTGRES), if any.
let testServer = ProcessInfo.processInfo.environment["BLUETRACE_TEST_POSTGRES"].flatMap(PostgresURL.init)

/// Runs `statement` on the test server's maintenance database.
func administer(_ statement: String) async throws {
    try await #require(testServer).withConnection(logger: quietLogger) {
        try await $0.query(PostgresQuery(unsafeSQL: statement), logger: quietLogger)
    }
}

/// A database of its own on the test server, for one test: its URL and name (drop it with `administer`).
func freshDatabase() async throws -> (url: String, name: String) {
    let name = "bluetrace_e2e_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    try await administer("CREATE DATABASE \(name)")
    let server = try #require(testServer)
    return ("postgres://\(server.username)@\(server.host):\(server.port)/\(name)", name)
}

/// Several `bluetrace server` processes on one PostgreSQL database.
@Suite("Several servers on PostgreSQL", .enabled(if: testServer != nil, "set BLUETRACE_TEST_POSTGRES (see the README)"))
struct PostgresServersTests {
    @Test("/ready says whether the PostgreSQL store answers: 200 while it does, 503 once the database is gone")
    func readiness() async throws {
        let name = "bluetrace_e2e_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await administer("CREATE DATABASE \(name)")
        let url = "postgres://\(testServer!.username)@\(testServer!.host):\(testServer!.port)/\(name)"
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        let added = try await runBluetrace(
            ["officials", "add", "dr.lee", "--password-stdin", "--password-cost", "4", "--database", url],
            in: directory.path, input: "correct horse battery\n")
        #expect(added.status == 0, "\(added.errors)")
        let server = try await ServerProcess(
            directory: directory.path, arguments: ["--database", url, "--http-port", "0"])
        let base = "http://127.0.0.1:\(try await server.consolePort())"
        #expect(try await ConsoleCommandTests.get("\(base)/ready") == (200, "ready\n"))
        try await administer("DROP DATABASE \(name) WITH (FORCE)")
        let gone = try await ConsoleCommandTests.get("\(base)/ready")
        #expect(gone.status == 503, "\(gone.body)")
        #expect(gone.body.hasPrefix("not ready: the store does not answer"))
        #expect(try await ConsoleCommandTests.get("\(base)/health") == (200, "alive\n"))
        await server.stop(signal: SIGKILL)
    }

    @Test("A TempID issued by one server traces through another; wrong passwords spread over servers block on all")
    func twoServersOneTruth() async throws {
        let (url, name) = try await freshDatabase()
        let first = try TestDirectory()
        let second = try TestDirectory()
        try first.write(Demo.sampleCredentials, to: "credentials.txt")
        try second.write(Demo.sampleCredentials, to: "credentials.txt")
        let servers = [
            try await ServerProcess(directory: first.path, arguments: ["--database", url]),
            try await ServerProcess(directory: second.path, arguments: ["--database", url]),
        ]

        let issuer = try await phoneClient(port: servers[0].port, directory: first.path)
        await issuer.type("+61410888888", "comp3331", "Download_tempID")
        let at = try await issuer.expect("> TempID:")
        let tempID = issuer.screen.lines[at + 1]
        let line = try #require(
            try first.read("tempIDs.txt").split(whereSeparator: { $0.isNewline }).last { $0.contains(tempID) })
        let fields = line.split(separator: " ")
        try second.write(
            "\(tempID) \(fields[2]) \(fields[3]) \(fields[4]) \(fields[5])\n", to: "+61410666666_contactlog.txt")
        let uploader = try await phoneClient(port: servers[1].port, directory: second.path)
        await uploader.type("+61410666666", "kara1234", "Upload_contact_log")
        try await uploader.expect("traced 1.")

        for (index, server) in [servers[0], servers[1], servers[0]].enumerated() {
            let guesser = try await phoneClient(port: server.port, directory: first.path)
            await guesser.type("+61410999999", "wrong\(index)")
            try await guesser.expect(index < 2 ? "Invalid Password" : "Your account has been blocked")
        }
        let blocked = try await phoneClient(port: servers[1].port, directory: second.path)
        await blocked.type("+61410999999", "bada4568")
        try await blocked.expect("Your account is blocked due to multiple login failures")

        // The official's commands work on the shared database too.
        let trace = try await runBluetrace(["trace", "+61410666666", "--json", "--database", url], in: first.path)
        #expect(trace.status == 0, "\(trace.errors)")
        #expect(trace.output.contains("\"phone\" : \"+61410888888\""))
        let code = try await runBluetrace(
            ["authority", "issue-code", "+61410666666", "--database", url], in: first.path)
        #expect(code.status == 0, "\(code.errors)")
        let audit = try await runBluetrace(["audit", "--json", "--database", url], in: second.path)
        for action in ["\"upload\"", "\"trace_query\"", "\"code_issued\""] {
            #expect(audit.output.contains("\"action\" : \(action)"), "\(audit.output)")
        }

        for server in servers { #expect(await server.stop(signal: SIGTERM) == 0) }
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test("The same phone number registered on two servers at the same moment: exactly one registration succeeds")
    func registrationRace() async throws {
        let (url, name) = try await freshDatabase()
        let first = try TestDirectory()
        let second = try TestDirectory()
        let servers = [
            try await ServerProcess(directory: first.path, arguments: ["--database", url]),
            try await ServerProcess(directory: second.path, arguments: ["--database", url]),
        ]
        let numbers = (0..<8).map { "+614105550\($0)0" }
        let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for number in numbers {
                for (port, directory) in [(servers[0].port, first.path), (servers[1].port, second.path)] {
                    group.addTask {
                        let phone = try await phoneClient(port: port, directory: directory, register: true)
                        await phone.type(number, "password\(number.suffix(3))")
                        // "> Account N created." or "> The username N is taken; …" (the typed "> Username: N" ends the line).
                        let line = try await phone.expect("\(number) ")
                        return (number, phone.screen.lines[line] == "> Account \(number) created.")
                    }
                }
            }
            return try await group.reduce(into: [String: Int]()) { created, outcome in
                created[outcome.0, default: 0] += outcome.1 ? 1 : 0
            }
        }
        #expect(outcomes == Dictionary(uniqueKeysWithValues: numbers.map { ($0, 1) }), "one success per number")
        #expect(try await scalar("SELECT count(*) FROM account", in: url) == numbers.count)
        for server in servers { #expect(await server.stop(signal: SIGTERM) == 0) }
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test("An instance killed with -9 under load: phones on the other notice nothing; no acknowledged upload is lost")
    func instanceKilledUnderLoad() async throws {
        let (url, name) = try await freshDatabase()
        let first = try TestDirectory()
        let second = try TestDirectory()
        try first.write(Demo.sampleCredentials, to: "credentials.txt")
        let doomed = try await ServerProcess(directory: first.path, arguments: ["--database", url])
        let survivor = try await ServerProcess(directory: second.path, arguments: ["--database", url])
        let sender = try await phoneClient(port: survivor.port, directory: second.path)
        await sender.type("+61410888888", "comp3331", "Download_tempID")
        try await sender.expect("> TempID:")
        let uploader = try await phoneClient(port: doomed.port, directory: first.path)
        await uploader.type("+61410666666", "kara1234")
        try await uploader.expect("Welcome to the BlueTrace Simulator!")
        await sender.type("Beacon 127.0.0.1 \(uploader.beaconPort)")
        try await uploader.expect("The beacon is valid.")

        let progress = Mutex((downloads: 0, failures: 0))
        let load = Task {
            for _ in 0..<150 {
                let before = sender.screen.lines.count
                await sender.type("Download_tempID")
                let line = try await sender.expect("TempID", from: before)
                progress.withLock {
                    $0.downloads += 1
                    if !sender.screen.lines[line].hasPrefix("> TempID:") { $0.failures += 1 }
                }
            }
        }
        var acknowledged = 0
        for _ in 0..<3 {
            let before = uploader.screen.lines.count
            await uploader.type("Upload_contact_log")
            try await uploader.expect("traced 1.", from: before)
            acknowledged += 1
        }
        await uploader.type("Upload_contact_log")
        #expect(await doomed.stop(signal: SIGKILL) == SIGKILL)
        let atKill = progress.withLock { $0.downloads }
        try await load.value

        let (downloads, failures) = progress.withLock { ($0.downloads, $0.failures) }
        #expect(atKill < downloads, "the load went on after the kill")
        #expect(failures == 0, "the other server's phone noticed nothing")
        let stored = try await scalar("SELECT count(*) FROM upload", in: url)
        #expect(stored >= acknowledged && stored <= acknowledged + 1, "every acknowledged upload is stored")
        #expect(await survivor.stop(signal: SIGTERM) == 0)
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test(
        "Servers share one key file: `keys rotate` reaches them all, and a TempID sealed by one traces through another")
    func sharedKeyFile() async throws {
        let (url, name) = try await freshDatabase()
        let keys = try TestDirectory()
        let keyFile = "\(keys.path)/bluetrace-keys.json"
        let first = try TestDirectory()
        let second = try TestDirectory()
        try first.write(Demo.sampleCredentials, to: "credentials.txt")
        let arguments = [
            "--database", url, "--tempid-scheme", "sealed", "--sealed-batch-size", "1", "--key-file", keyFile,
        ]
        let servers = [
            try await ServerProcess(directory: first.path, arguments: arguments),
            try await ServerProcess(directory: second.path, arguments: arguments),
        ]
        let rotate = try await runBluetrace(["keys", "rotate", "--key-file", keyFile], in: keys.path)
        #expect(rotate.status == 0, "\(rotate.errors)")

        let sender = try await phoneClient(port: servers[0].port, directory: first.path)
        await sender.type("+61410888888", "comp3331")
        try await sender.expect("Welcome to the BlueTrace Simulator!")
        // The first server takes the new key within its watcher's 5 seconds; ask until it has.
        let deadline = ContinuousClock.now + .seconds(30)
        var keyID: UInt8?
        repeat {
            let before = sender.screen.lines.count
            await sender.type("Download_tempID")
            let tempID = sender.screen.lines[try await sender.expect("> TempID:", from: before) + 1]
            keyID = Data(base64Encoded: tempID)?.first
            if keyID != 2 { try await Task.sleep(for: .milliseconds(250)) }
        } while keyID != 2 && ContinuousClock.now < deadline
        #expect(keyID == 2, "the first server seals under the rotated key")

        let receiver = try await phoneClient(port: servers[1].port, directory: second.path)
        await receiver.type("+61410777777", "datha457")
        try await receiver.expect("Welcome to the BlueTrace Simulator!")
        await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
        try await receiver.expect("The beacon is valid.")
        await receiver.type("Upload_contact_log")
        try await receiver.expect("the server received 1 entry and traced 1.")

        for server in servers { #expect(await server.stop(signal: SIGTERM) == 0) }
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// Whether HAProxy is installed (`.ci/run` installs it).
private let haproxyAvailable = FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")

/// scripts/scale-out.sh: PostgreSQL, servers and HAProxy on loopback, the bench through the balancer.
@Suite(
    "Scale-out arrangement",
    .enabled(if: testServer != nil && haproxyAvailable, "needs PostgreSQL and HAProxy (apt-get install haproxy)"))
struct ScaleOutScriptTests {
    @Test("scripts/scale-out.sh runs two servers behind HAProxy, and benches through it without an error")
    func twoInstances() async throws {
        let run = try await runScript(
            "scale-out.sh",
            [
                "--instances", "2", "--clients", "4", "--duration", "1", "--bluetrace", ChildProcess.executable.path,
                "--json",
            ])
        #expect(run.status == 0, "\(run.errors)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output)")
        #expect(summary["instances"] as? Int == 2)
        #expect(summary["errors"] as? Int == 0)
        #expect((summary["operations"] as? Int ?? 0) > 0)
        let perOperation = try #require(summary["microsecondsPerOperation"] as? [String: Double])
        #expect((perOperation["servers"] ?? 0) > 0 && (perOperation["postgres"] ?? 0) > 0)
    }
}

@Suite("PostgreSQL address errors")
struct PostgresAddressErrorTests {
    @Test("A server whose PostgreSQL cannot be reached says so at once and does not start")
    func unreachable() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        do {
            _ = try await ServerProcess(
                directory: directory.path, arguments: ["--database", "postgres://nobody:secret@127.0.0.1:1/bluetrace"])
            Issue.record("the server started without its database")
        } catch ServerProcessError.exited(let errors) {
            #expect(errors.contains("cannot use the PostgreSQL database postgres://nobody@127.0.0.1:1/bluetrace"))
            #expect(errors.contains("Connection refused"))
            #expect(!errors.contains("secret"), "the password is never printed")
        }
    }

    @Test("Addresses are read with their parts; anything else is a file path")
    func parse() throws {
        let url = try #require(PostgresURL("postgresql://user:p%40ss@db.example:6543/trace"))
        #expect(url.host == "db.example" && url.port == 6543 && url.username == "user")
        #expect(url.password == "p@ss" && url.database == "trace")
        #expect(PostgresURL("postgres://user@localhost")?.database == "user")
        #expect(PostgresURL("bluetrace.sqlite") == nil)
        #expect(PostgresURL("postgres://localhost/db") == nil, "a user is needed")
    }
}
