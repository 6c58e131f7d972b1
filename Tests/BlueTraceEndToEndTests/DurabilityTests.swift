import BlueTraceCLI
import BlueTraceClient
import BlueTraceDomain
import BlueTraceStore
import Foundation
import NIOCore
import Testing

/// Nothing the health authority relies on is lost: a real server process is killed and restarted.
@Suite("Durability, with a real server process")
struct DurabilityTests {
    @Test("After kill -9, acknowledged uploads, issued TempIDs and blocks are all still there")
    func killNineLosesNothing() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        try directory.write(Demo.sampleTempIDs, to: "tempIDs.txt")
        try directory.write(sampleContactLog, to: "+61410666666_contactlog.txt")

        let first = try await ServerProcess(directory: directory.path)
        let uploader = try await phoneClient(port: first.port, directory: directory.path)
        await uploader.type("+61410666666", "kara1234", "Upload_contact_log")
        try await uploader.expect("the server received 2 entries and traced 2.")

        let issuer = try await phoneClient(port: first.port, directory: directory.path)
        await issuer.type("+61410888888", "comp3331", "Download_tempID")
        let tempID = issuer.screen.lines[try await issuer.expect("> TempID:") + 1]

        let attacker = try await phoneClient(port: first.port, directory: directory.path)
        await attacker.type("+61410999999", "x", "y", "z")
        try await attacker.expect("Your account has been blocked")
        await first.stop(signal: SIGKILL)
        #expect(try await uploader.outcome() == .connectionLost)

        let second = try await ServerProcess(directory: directory.path)
        let trace = try await runBluetrace(["trace", "+61410666666", "--json"], in: directory.path).output
        let contacts = try JSONSerialization.jsonObject(with: Data(trace.utf8)) as? [[String: Any]]
        #expect(contacts?.compactMap { $0["phone"] as? String } == ["+61410777777", "+61410888888"])
        #expect(contacts?.first?["tempIDs"] as? [String] == ["12345678901234567892"])
        let table = try await runBluetrace(["trace", "+61410666666"], in: directory.path).output
        #expect(table.hasPrefix("Contacts traced from the uploads of +61410666666:"))

        let blocked = try await phoneClient(port: second.port, directory: directory.path)
        await blocked.type("+61410999999", "bada4568")
        try await blocked.expect("Your account is blocked due to multiple login failures")

        let line = try directory.read("tempIDs.txt").split(whereSeparator: \.isNewline).last { $0.contains(tempID) }
        let fields = try #require(line).split(separator: " ")
        try directory.write(
            "\(tempID) \(fields[2]) \(fields[3]) \(fields[4]) \(fields[5])\n", to: "+61410777777_contactlog.txt")
        let tracer = try await phoneClient(port: second.port, directory: directory.path)
        await tracer.type("+61410777777", "datha457", "Upload_contact_log")
        try await tracer.expect("traced 1.")
        await tracer.type("logout")
        #expect(try await tracer.outcome() == .loggedOut)
        #expect(await second.stop(signal: SIGTERM) == 0, "SIGTERM shuts the server down cleanly")
    }

    @Test("A second server on the same SQLite file is refused with a clear message; the first serves on")
    func secondServerOnOneDatabase() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        let first = try await ServerProcess(directory: directory.path)
        do {
            _ = try await ServerProcess(directory: directory.path)
            Issue.record("a second server started on the first one's database")
        } catch ServerProcessError.exited(let errors) {
            #expect(errors.contains("is in use by another bluetrace server"), "\(errors)")
        }
        let phone = try await phoneClient(port: first.port, directory: directory.path)
        await phone.type("+61410888888", "comp3331", "Download_tempID")
        try await phone.expect("> TempID:")
        await phone.type("logout")
        #expect(try await phone.outcome() == .loggedOut)
        #expect(await first.stop(signal: SIGTERM) == 0)
        let third = try await ServerProcess(directory: directory.path)
        #expect(await third.stop(signal: SIGTERM) == 0, "the lock went with the first server")
    }
}

/// Passwords, registration and imports against the in-process server and its SQLite file.
@Suite("Accounts and imports")
struct AccountTests {
    @Test("No plaintext password is anywhere in the database files")
    func noPlaintextPasswords() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.client(register: true)
            await client.type("+61400000001", "correct horse")
            try await client.expect("Welcome to the BlueTrace Simulator!")
        }
        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] {
            bytes += FileManager.default.contents(atPath: "\(directory.path)/bluetrace.sqlite\(suffix)") ?? Data()
        }
        #expect(bytes.count > 0)
        for password in ["kara1234", "datha457", "comp3331", "bada4568", "correct horse"] {
            #expect(bytes.range(of: Data(password.utf8)) == nil, "\(password) is stored in plaintext")
        }
        #expect(bytes.range(of: Data("$scrypt$".utf8)) != nil)
    }

    @Test("Importing credentials again changes nothing; a changed password replaces the old one")
    func importIsIdempotent() async throws {
        let directory = try TestDirectory()
        let hashes: @Sendable () async throws -> [String] = {
            let store = try SQLiteStore(path: "\(directory.path)/bluetrace.sqlite", exclusive: false)
            var hashes: [String] = []
            for user in ["+61410666666", "+61410777777"] {
                hashes.append(try await store.account(named: user)?.passwordHash ?? "-")
            }
            return hashes
        }
        try await withServer(in: directory) { _ in }
        let before = try await hashes()
        try await withServer(in: directory) { _ in }
        #expect(try await hashes() == before, "a second import rewrites nothing")

        let changed = Demo.sampleCredentials.replacingOccurrences(of: "datha457", with: "datha999")
        try await withServer(in: directory, credentials: changed) { server in
            let old = try await server.client()
            await old.type("+61410777777", "datha457")
            try await old.expect("> Invalid Password. Please try again")
            await old.type("datha999")
            try await old.expect("Welcome to the BlueTrace Simulator!")
        }
        let after = try await hashes()
        #expect(after[0] == before[0])
        #expect(after[1] != before[1])
    }

    @Test("Registration enforces the rules and refuses a taken username")
    func registration() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.client(register: true)
            await client.type("0410777777", "longenough")
            try await client.expect("must be an international phone number")
            await client.type("+61400000002", "short")
            try await client.expect("at least 8 characters")
            await client.type("+61410777777", "longenough")
            try await client.expect("is taken")
            await client.type("+61400000002", "long enough?")
            try await client.expect("> Account +61400000002 created.")
            try await client.expect("> Welcome to the BlueTrace Simulator!")
            try await server.screen.waitForLine(containing: "> +61400000002 registered")
            await client.type("logout")
            #expect(try await client.outcome() == .loggedOut)

            let again = try await server.loggedInClient("+61400000002", "long enough?")
            await again.type("logout")
            #expect(try await again.outcome() == .loggedOut)
        }
    }

    @Test("A server can start from the database alone, without credentials.txt")
    func startsWithoutCredentialsFile() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { _ in }
        try FileManager.default.removeItem(atPath: "\(directory.path)/credentials.txt")
        try await withServer(in: directory, credentials: "") { server in
            let client = try await server.loggedInClient("+61410888888", "comp3331")
            await client.type("logout")
            #expect(try await client.outcome() == .loggedOut)
        }
    }
}

/// Graceful shutdown under load: SIGTERM while clients download and upload; everything acknowledged is stored.
@Suite("Graceful shutdown under load")
struct ShutdownTests {
    @Test("SIGTERM mid-load: the server exits 0, clients are told, and every acknowledged request's effect is stored")
    func sigtermMidLoad() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        try directory.write(Demo.sampleTempIDs, to: "tempIDs.txt")
        for user in ["+61410666666", "+61410777777"] {
            try directory.write(
                "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n", to: "\(user)_contactlog.txt")
        }
        let server = try await ServerProcess(directory: directory.path)
        let users = [
            ("+61410666666", "kara1234"), ("+61410777777", "datha457"), ("+61410888888", "comp3331"),
            ("+61410999999", "bada4568"),
        ]
        var clients: [ScriptedClient] = []
        for (user, password) in users {
            let client = try await ScriptedClient.start(
                configuration: ClientConfiguration(
                    serverHost: "127.0.0.1", serverPort: server.port, udpPort: 0, udpHost: "127.0.0.1",
                    logDirectory: directory.path),
                logger: quietLogger)
            await client.type(user, password)
            try await client.expect("Welcome to the BlueTrace Simulator!")
            clients.append(client)
        }
        let running = clients
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, client) in running.enumerated() {
                    group.addTask {
                        for _ in 0..<10_000 {
                            await client.type(index < 2 ? "Upload_contact_log" : "Download_tempID")
                            if client.screen.lines.last?.hasSuffix("Exiting.") == true { return }
                        }
                    }
                }
            }
        }
        // Mid-load: once every client has had an answer.
        for (index, client) in clients.enumerated() {
            try await client.expect(index < 2 ? "Contact log uploaded" : "> TempID:", timeout: .seconds(30))
        }
        #expect(await server.stop(signal: SIGTERM) == 0)
        await load.value
        for client in clients {
            let outcome = try await client.outcome()
            #expect(outcome == .serverWentAway || outcome == .connectionLost)
        }
        #expect(clients.contains { $0.screen.lines.contains("> The server has shut down. Exiting.") })

        let store = try SQLiteStore(path: "\(directory.path)/bluetrace.sqlite")
        for (index, client) in clients.enumerated() {
            let lines = client.screen.lines
            if index < 2 {
                let acknowledged = lines.filter { $0.hasPrefix("> Contact log uploaded") }.count
                let stored = try await store.tracedContacts(of: users[index].0).first?.encounters ?? 0
                #expect(stored >= acknowledged, "every acknowledged upload is stored")
                #expect(acknowledged > 0)
            } else {
                let issued = lines.indices.filter { lines[$0] == "> TempID:" }.compactMap { TempID(lines[$0 + 1]) }
                let stored = try await store.grants(for: issued)
                #expect(stored.count == issued.count, "every acknowledged TempID is stored")
            }
        }
    }
}
