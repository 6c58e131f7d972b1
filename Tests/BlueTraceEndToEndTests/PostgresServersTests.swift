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

/// One `bluetrace server` on PostgreSQL: its readiness follows the database's.
@Suite("A server on PostgreSQL", .enabled(if: testServer != nil, "set BLUETRACE_TEST_POSTGRES (see the README)"))
struct PostgresReadinessTests {
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
}

/// Two `bluetrace server` processes on one PostgreSQL database behind HAProxy: scripts/scale-out.sh's arrangement
/// with 2 instances. Each runs in a directory of its own, its terminal lines collected and its log at `info` (a line
/// per login refused and per block), so that a test can prove from the instances' own output which one answered what.
private final class TwoInstances {
    /// The servers, `s1` and `s2` behind the balancer.
    let servers: [ServerProcess]
    /// HAProxy in front of them (round robin: connections made one after another alternate between them).
    let balancer: LoadBalancer
    /// The servers' directories (tempIDs.txt), in the order of `servers`.
    let paths: [String]
    /// Where the phones keep their contact logs.
    let phones: TestDirectory
    private let first: TestDirectory
    private let second: TestDirectory

    /// Starts both servers on the database at `url` with `arguments`, each with `credentials` when given, then
    /// HAProxy in front of them.
    init(database url: String, arguments: [String] = [], credentials: String? = Demo.sampleCredentials) async throws {
        first = try TestDirectory()
        second = try TestDirectory()
        phones = try TestDirectory()
        paths = [first.path, second.path]
        var servers: [ServerProcess] = []
        for path in paths {
            if let credentials {
                try credentials.write(toFile: "\(path)/credentials.txt", atomically: true, encoding: .utf8)
            }
            servers.append(
                try await ServerProcess(
                    directory: path, arguments: ["--database", url] + arguments, standardOutput: .collect,
                    logLevel: "info"))
        }
        self.servers = servers
        balancer = try await LoadBalancer(servers: servers.map(\.port))
    }

    /// A phone connected through the balancer, keeping its contact log in `phones`.
    func phone(register: Bool = false) async throws -> ScriptedClient {
        try await phoneClient(port: balancer.port, directory: phones.path, register: register)
    }

    /// Which server (0 or 1) printed `text` on its terminal: waits until one has, and fails if both have.
    func landing(of text: String) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let printed = servers.map { $0.printed.contains(text) }
            if printed == [true, false] { return 0 }
            if printed == [false, true] { return 1 }
            try #require(printed != [true, true], "both instances printed \(text)")
            try #require(ContinuousClock.now < deadline, "no instance printed \(text)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the balancer, then the servers still running (SIGTERM); returns what each server wrote and its exit
    /// status (SIGKILL's for one the test killed).
    func stop() async -> [(status: Int32, output: String, errors: String)] {
        await balancer.stop()
        var ended: [(status: Int32, output: String, errors: String)] = []
        for server in servers {
            if server.process.isRunning { kill(server.process.processIdentifier, SIGTERM) }
            ended.append(await server.child.finish())
        }
        return ended
    }
}

/// How many lines of `log` (a server's standard error at `info`) say `message` about `user`.
private func logLines(_ message: String, about user: String, in log: String) -> Int {
    log.split(separator: "\n").count { $0.contains("user=\(user)") && $0.hasSuffix("] \(message)") }
}

/// How many times `text` occurs in `printed`.
private func occurrences(of text: String, in printed: String) -> Int {
    printed.components(separatedBy: text).count - 1
}

/// The cross-instance rules, with the phones connecting through HAProxy to two `bluetrace server` processes on one
/// PostgreSQL database, as scripts/scale-out.sh arranges them. Each test proves where every request landed from the
/// instances' own terminal lines and logs.
@Suite(
    "Several servers on PostgreSQL behind HAProxy",
    .enabled(if: testServer != nil && haproxyAvailable, "needs PostgreSQL and HAProxy (apt-get install haproxy)"))
struct PostgresServersTests {
    @Test("A TempID issued by one instance traces through the other; wrong passwords spread over both block on both")
    func twoServersOneTruth() async throws {
        let (url, name) = try await freshDatabase()
        let instances = try await TwoInstances(database: url)

        let issuer = try await instances.phone()
        await issuer.type("+61410888888", "comp3331", "Download_tempID")
        let at = try await issuer.expect("> TempID:")
        let tempID = issuer.screen.lines[at + 1]
        // The instance that issued it printed it; round robin sends the next connection to the other one.
        let issuing = try await instances.landing(of: "> TempID:\n\(tempID)\n")
        let tracing = 1 - issuing
        let line = try #require(
            try String(contentsOfFile: "\(instances.paths[issuing])/tempIDs.txt", encoding: .utf8)
                .split(whereSeparator: { $0.isNewline }).last { $0.contains(tempID) })
        let fields = line.split(separator: " ")
        try instances.phones.write(
            "\(tempID) \(fields[2]) \(fields[3]) \(fields[4]) \(fields[5])\n", to: "+61410666666_contactlog.txt")
        let uploader = try await instances.phone()
        await uploader.type("+61410666666", "kara1234", "Upload_contact_log")
        try await uploader.expect("traced 1.")

        // Connections 3, 4 and 5 go to the issuing, the tracing and the issuing instance; 6 to the tracing one.
        for index in 0..<3 {
            let guesser = try await instances.phone()
            await guesser.type("+61410999999", "wrong\(index)")
            try await guesser.expect(index < 2 ? "Invalid Password" : "Your account has been blocked")
        }
        let blocked = try await instances.phone()
        await blocked.type("+61410999999", "bada4568")
        try await blocked.expect("Your account is blocked due to multiple login failures")

        // The official's commands work on the shared database too.
        let trace = try await runBluetrace(
            ["trace", "+61410666666", "--json", "--database", url], in: instances.paths[0])
        #expect(trace.status == 0, "\(trace.errors)")
        #expect(trace.output.contains("\"phone\" : \"+61410888888\""))
        let code = try await runBluetrace(
            ["authority", "issue-code", "+61410666666", "--database", url], in: instances.paths[0])
        #expect(code.status == 0, "\(code.errors)")
        let audit = try await runBluetrace(["audit", "--json", "--database", url], in: instances.paths[1])
        for action in ["\"upload\"", "\"trace_query\"", "\"code_issued\""] {
            #expect(audit.output.contains("\"action\" : \(action)"), "\(audit.output)")
        }

        let ended = await instances.stop()
        #expect(ended.map(\.status) == [0, 0], "\(ended.map(\.errors))")
        // Each request landed where the test says: one instance issued the TempID and received no upload; the other
        // received the upload, traced that TempID to its holder, and issued nothing to that holder.
        let (issued, traced) = (ended[issuing], ended[tracing])
        #expect(issued.output.contains("> user: +61410888888\n> TempID:\n\(tempID)\n"), "\(issued.output)")
        #expect(!issued.output.contains("> received contact log"), "\(issued.output)")
        #expect(
            traced.output.contains(
                "> received contact log from +61410666666\n\(tempID),\n\(fields[2]) \(fields[3]),\n"
                    + "\(fields[4]) \(fields[5]);\n> Contact log checking\n+61410888888,\n"
                    + "\(fields[2]) \(fields[3]),\n\(tempID);\n"), "\(traced.output)")
        #expect(!traced.output.contains("> user: +61410888888"), "\(traced.output)")
        // The first and third wrong passwords reached the issuing instance, which blocked the user at the third; the
        // second reached the tracing one, which then refused the right password because of the block.
        let user = "+61410999999"
        #expect(logLines("login refused", about: user, in: issued.errors) == 1, "\(issued.errors)")
        #expect(logLines("user blocked after repeated login failures", about: user, in: issued.errors) == 1)
        #expect(logLines("login refused: blocked", about: user, in: issued.errors) == 0)
        #expect(logLines("login refused", about: user, in: traced.errors) == 1, "\(traced.errors)")
        #expect(logLines("user blocked after repeated login failures", about: user, in: traced.errors) == 0)
        #expect(logLines("login refused: blocked", about: user, in: traced.errors) == 1)
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test("The same phone number registered on both instances at the same moment: exactly one registration succeeds")
    func registrationRace() async throws {
        let (url, name) = try await freshDatabase()
        let instances = try await TwoInstances(database: url, credentials: nil)
        let numbers = (0..<8).map { "+614105550\($0)0" }
        // A number of its own for the phone that lost the race, registered on the same connection afterwards, so
        // that the instance it was connected to prints it.
        func own(_ number: String) -> String { String(number.dropLast()) + "9" }
        // Sixteen connections one after another, then all the registrations at once: round robin puts each number's
        // two phones on different instances.
        var phones: [(number: String, phone: ScriptedClient)] = []
        for number in numbers {
            for _ in 0..<2 { phones.append((number, try await instances.phone(register: true))) }
        }
        let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for (number, phone) in phones {
                group.addTask {
                    await phone.type(number, "password\(number.suffix(3))")
                    // "> Account N created." or "> The username N is taken; …" (the typed "> Username: N" ends the line).
                    let line = try await phone.expect("\(number) ")
                    let created = phone.screen.lines[line] == "> Account \(number) created."
                    if !created {
                        await phone.type(own(number), "password\(number.suffix(3))")
                        try await phone.expect("> Account \(own(number)) created.")
                    }
                    return (number, created)
                }
            }
            return try await group.reduce(into: [String: Int]()) { created, outcome in
                created[outcome.0, default: 0] += outcome.1 ? 1 : 0
            }
        }
        #expect(outcomes == Dictionary(uniqueKeysWithValues: numbers.map { ($0, 1) }), "one success per number")
        #expect(try await scalar("SELECT count(*) FROM account", in: url) == 2 * numbers.count)

        let ended = await instances.stop()
        #expect(ended.map(\.status) == [0, 0], "\(ended.map(\.errors))")
        // Each number was registered by one instance, and its losing phone was on the other.
        for number in numbers {
            let winners = ended.indices.filter { ended[$0].output.contains("> \(number) registered\n") }
            let losers = ended.indices.filter { ended[$0].output.contains("> \(own(number)) registered\n") }
            #expect(winners.count == 1 && losers.count == 1 && winners != losers, "\(number): \(winners), \(losers)")
        }
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test("An instance killed with -9 under load: phones on the other notice nothing; no acknowledged upload is lost")
    func instanceKilledUnderLoad() async throws {
        let (url, name) = try await freshDatabase()
        let instances = try await TwoInstances(database: url)
        let sender = try await instances.phone()
        await sender.type("+61410888888", "comp3331", "Download_tempID")
        let at = try await sender.expect("> TempID:")
        // The sender's instance survives; round robin sends the uploader, the next connection, to the other.
        let survivorIndex = try await instances.landing(of: "> TempID:\n\(sender.screen.lines[at + 1])\n")
        let doomedIndex = 1 - survivorIndex
        let doomed = instances.servers[doomedIndex]
        let uploader = try await instances.phone()
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
        // The acknowledged uploads were the doomed instance's: its terminal shows each.
        let received = "> received contact log from +61410666666\n"
        try await doomed.untilPrinted(received, times: acknowledged)
        #expect(occurrences(of: received, in: doomed.printed) == acknowledged, "\(doomed.printed)")
        await uploader.type("Upload_contact_log")
        #expect(await doomed.stop(signal: SIGKILL) == SIGKILL)
        let atKill = progress.withLock { $0.downloads }
        try await load.value

        let (downloads, failures) = progress.withLock { ($0.downloads, $0.failures) }
        #expect(atKill < downloads, "the load went on after the kill")
        #expect(failures == 0, "the other instance's phone noticed nothing")
        let stored = try await scalar("SELECT count(*) FROM upload", in: url)
        #expect(stored >= acknowledged && stored <= acknowledged + 1, "every acknowledged upload is stored")

        // HAProxy's health checks find the dead instance; two new connections in a row, which round robin would
        // otherwise share between the instances, both reach the survivor and work.
        try await instances.balancer.untilDown(server: doomedIndex)
        for (user, password) in [("+61410777777", "datha457"), ("+61410999999", "bada4568")] {
            let phone = try await instances.phone()
            await phone.type(user, password, "Download_tempID")
            try await phone.expect("> TempID:")
        }

        let ended = await instances.stop()
        #expect(ended[survivorIndex].status == 0, "\(ended[survivorIndex].errors)")
        #expect(ended[doomedIndex].status == SIGKILL)
        // Every TempID the sender downloaded, before and after the kill, was the survivor's, as were the new phones'.
        let kept = ended[survivorIndex].output
        #expect(occurrences(of: "> user: +61410888888\n> TempID:\n", in: kept) == 1 + downloads)
        #expect(
            kept.contains("> user: +61410777777\n> TempID:\n") && kept.contains("> user: +61410999999\n> TempID:\n"))
        #expect(!kept.contains("> received contact log"), "the uploader was never on the survivor")
        #expect(!ended[doomedIndex].output.contains("> user: +61410888888"), "the sender was never on the doomed one")
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test(
        "Instances share one key file: `keys rotate` reaches them, and a TempID sealed by one traces through the other")
    func sharedKeyFile() async throws {
        let (url, name) = try await freshDatabase()
        let keys = try TestDirectory()
        let keyFile = "\(keys.path)/bluetrace-keys.json"
        let instances = try await TwoInstances(
            database: url, arguments: ["--tempid-scheme", "sealed", "--sealed-batch-size", "1", "--key-file", keyFile])
        let rotate = try await runBluetrace(["keys", "rotate", "--key-file", keyFile], in: keys.path)
        #expect(rotate.status == 0, "\(rotate.errors)")

        let sender = try await instances.phone()
        await sender.type("+61410888888", "comp3331")
        try await sender.expect("Welcome to the BlueTrace Simulator!")
        // The sender's instance takes the new key within its watcher's 5 seconds; ask until it has.
        let deadline = ContinuousClock.now + .seconds(30)
        var keyID: UInt8?
        var tempIDs: [String] = []
        repeat {
            let before = sender.screen.lines.count
            await sender.type("Download_tempID")
            let tempID = sender.screen.lines[try await sender.expect("> TempID:", from: before) + 1]
            tempIDs.append(tempID)
            keyID = Data(base64Encoded: tempID)?.first
            if keyID != 2 { try await Task.sleep(for: .milliseconds(250)) }
        } while keyID != 2 && ContinuousClock.now < deadline
        #expect(keyID == 2, "the sender's instance seals under the rotated key")
        let sealing = try await instances.landing(of: "> TempID:\n\(tempIDs[0])\n")

        // The next connection goes to the other instance, which opens the TempID sealed under the rotated key.
        let receiver = try await instances.phone()
        await receiver.type("+61410777777", "datha457")
        try await receiver.expect("Welcome to the BlueTrace Simulator!")
        await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
        try await receiver.expect("The beacon is valid.")
        await receiver.type("Upload_contact_log")
        try await receiver.expect("the server received 1 entry and traced 1.")

        let ended = await instances.stop()
        #expect(ended.map(\.status) == [0, 0], "\(ended.map(\.errors))")
        let (sealed, opened) = (ended[sealing].output, ended[1 - sealing].output)
        for tempID in tempIDs { #expect(sealed.contains("> TempID:\n\(tempID)\n"), "\(sealed)") }
        #expect(!sealed.contains("> received contact log"), "\(sealed)")
        #expect(opened.contains("> received contact log from +61410777777\n\(tempIDs.last!),\n"), "\(opened)")
        #expect(opened.contains("> Contact log checking\n+61410888888,\n"), "\(opened)")
        #expect(!opened.contains("> user: +61410888888"), "\(opened)")
        try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
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
