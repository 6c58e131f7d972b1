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
    /// `standardOutput` says otherwise; a server that ends before listening fails with its standard error.
    init(
        directory: String, arguments: [String] = [], standardOutput: ChildProcess.StandardOutput = .discard
    )
        async throws
    {
        child = try ChildProcess(
            ["server", "0", "60", "--host", "127.0.0.1", "--password-cost", "10", "--log-level", "notice"]
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

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32) async -> Int32 {
        await child.stop(signal: signal)
    }
}

/// The server process ended before it listened; its standard error says why.
enum ServerProcessError: Error, CustomStringConvertible {
    case exited(String)

    var description: String {
        switch self {
        case .exited(let errors): "the server ended before listening; its standard error:\n\(errors)"
        }
    }
}
