import Foundation

/// `bluetrace server` run as a child process, for tests that must kill and restart a server.
final class ServerProcess {
    /// The child, with its output drained.
    let child: ChildProcess
    /// The port the server listens on.
    let port: Int

    /// The process.
    var process: Process { child.process }

    /// Starts `bluetrace server` in `directory` on a port the OS picks, and waits until it listens: the server logs
    /// its address at notice level, and that log line gives the port. Its standard output is discarded unless
    /// `standardOutput` says otherwise; it logs at `logLevel` (at `info` every login, refusal and registration is a
    /// line). A server that ends before listening fails with its standard error.
    init(
        directory: String, arguments: [String] = [], standardOutput: ChildProcess.StandardOutput = .discard,
        logLevel: String = "notice"
    )
        async throws
    {
        child = try ChildProcess(
            ["server", "0", "60", "--host", "127.0.0.1", "--password-cost", "10", "--log-level", logLevel]
                + arguments, in: directory, standardOutput: standardOutput)
        let found = await child.errors.first { collected in
            guard
                let line = collected.split(separator: "\n").first(where: {
                    $0.contains("listening") && !$0.contains("console")
                }),
                let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") })
            else { return nil }
            return address.split(separator: ":").last.flatMap { Int($0) }
        }
        guard let found else { throw ServerProcessError.exited(await child.finish().errors) }
        port = found
    }

    /// The port of the HTTP console (`--http-port 0`), from its log line; fails with the server's standard error when
    /// it ends first.
    func consolePort() async throws -> Int {
        let found = await child.errors.first { collected in
            guard let line = collected.split(separator: "\n").first(where: { $0.contains("console listening") }),
                let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") })
            else { return nil }
            return address.split(separator: ":").last.flatMap { Int($0) }
        }
        guard let found else { throw ServerProcessError.exited(await child.finish().errors) }
        return found
    }

    /// What the server printed on standard output so far (its terminal lines; empty unless collected).
    var printed: String { child.output?.text ?? "" }

    /// Waits until what the server printed on standard output holds `text` at least `times` times; throws after
    /// `timeout`. The server prints from a thread of its own, so a line can come a little after the reply it goes
    /// with.
    func untilPrinted(_ text: String, times: Int = 1, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while printed.components(separatedBy: text).count - 1 < times {
            guard ContinuousClock.now < deadline else {
                throw ServerProcessError.neverPrinted(text, printed: printed)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32) async -> Int32 {
        await child.stop(signal: signal)
    }
}

/// The server process did not do what the test waited for.
enum ServerProcessError: Error, CustomStringConvertible {
    /// It ended before it listened; its standard error says why.
    case exited(String)
    /// It never printed the text awaited.
    case neverPrinted(String, printed: String)

    var description: String {
        switch self {
        case .exited(let errors): "the server ended before listening; its standard error:\n\(errors)"
        case .neverPrinted(let text, let printed): "the server never printed \"\(text)\"; it printed:\n\(printed)"
        }
    }
}
