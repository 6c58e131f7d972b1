import BlueTraceCLI
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `bluetrace officials add` and `bluetrace server --http-port`, with the real executable.
@Suite("The console's commands")
struct ConsoleCommandTests {
    @Test("An official is added once; bad names and passwords are refused with what to do, and nothing is stored")
    func add() async throws {
        let directory = try TestDirectory()
        let add = { (name: String, input: String) in
            try await runBluetrace(
                ["officials", "add", name, "--password-stdin", "--password-cost", "4", "--database", "db.sqlite"],
                in: directory.path, input: input)
        }
        let first = try await add("dr.lee", "correct horse battery\n")
        #expect(first.status == 0 && first.output == "Created the console account of official dr.lee.\n")
        let again = try await add("dr.lee", "another password\n")
        #expect(again.status == 1)
        #expect(again.errors.contains("an official named dr.lee already exists; choose another name."))
        let spaced = try await add("dr lee", "correct horse battery\n")
        #expect(spaced.status == 64)
        #expect(spaced.errors.contains("the name must be 1 to 64 letters, digits or . _ - @ (no spaces)"))
        let short = try await add("dr.kim", "short\n")
        #expect(short.status == 1)
        #expect(short.errors.contains("the password must have at least 8 characters; the account was not created."))
        let none = try await add("dr.kim", "")
        #expect(none.status == 1 && none.errors.contains("no password given"))
        let crlf = try await add("dr.kim", "correct horse battery\r\n")
        #expect(crlf.status == 0, "\(crlf.errors)")

        // Without --password-stdin the password is asked twice (hidden at a terminal; piped here, the prompts show).
        let ask = { (name: String, input: String) in
            try await runBluetrace(
                ["officials", "add", name, "--password-cost", "4", "--database", "db.sqlite"], in: directory.path,
                input: input)
        }
        let asked = try await ask("dr.ng", "longpassword\nlongpassword\n")
        #expect(asked.status == 0, "\(asked.errors)")
        #expect(
            asked.output
                == "Password: \nRepeat the password: \nCreated the console account of official dr.ng.\n",
            "the password itself is never echoed")
        let differ = try await ask("dr.oh", "longpassword\nanother one\n")
        #expect(differ.status == 1 && differ.errors.contains("the passwords differ; the account was not created."))
        let retry = try await add("dr.oh", "correct horse battery\n")
        #expect(retry.status == 0, "nothing was stored by the refused attempt")
    }

    @Test("/ready and /health of a real server with --http-port, and the console refuses a phone account")
    func readinessOfARealServer() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        let server = try await ServerProcess(
            directory: directory.path, arguments: ["--database", "db.sqlite", "--http-port", "0"])
        let base = "http://127.0.0.1:\(try await server.consolePort())"
        #expect(try await Self.get("\(base)/health") == (200, "alive\n"))
        #expect(try await Self.get("\(base)/ready") == (200, "ready\n"))
        let metrics = try await Self.get("\(base)/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("bluetrace_connections_open"))
        #expect(try await Self.get("\(base)/console/cases").status == 200, "redirected to the login page")
        #expect(await server.stop(signal: SIGTERM) == 0)
    }

    @Test("A console port in use stops the server at once, saying which port and what to do")
    func consolePortInUse() async throws {
        let directory = try TestDirectory()
        let holder = try await ServerProcess(
            directory: directory.path, arguments: ["--database", "a.sqlite", "--http-port", "0"])
        let taken = try await holder.consolePort()
        let second = try await runBluetrace(
            ["server", "0", "60", "--database", "b.sqlite", "--http-port", "\(taken)"], in: directory.path)
        #expect(second.status == 1)
        #expect(
            second.errors.contains(
                "cannot listen on 127.0.0.1:\(taken) for the HTTP console"), "\(second.errors)")
        #expect(second.errors.contains("Choose another --http-port (or --http-host)."))
        #expect(await holder.stop(signal: SIGTERM) == 0)
    }

    /// GETs `url` (following redirects); returns the status and body.
    static func get(_ url: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
