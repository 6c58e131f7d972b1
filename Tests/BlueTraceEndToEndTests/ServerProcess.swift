import Foundation

/// The real `bluetrace` executable run as a child process, for tests that must kill and restart a server.
final class ServerProcess {
    let process = Process()
    let port: Int
    private let output = Pipe()
    private let diagnostics = Pipe()

    /// The `bluetrace` binary SwiftPM built next to the test bundle.
    static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("bluetrace").path)
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("bluetrace")
    }

    /// Starts `bluetrace server` in `directory` on a port the OS picks, and waits until it listens: the server logs
    /// its address at notice level, and that log line gives the port.
    init(directory: String, arguments: [String] = []) async throws {
        process.executableURL = Self.executable
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.arguments =
            ["server", "0", "60", "--host", "127.0.0.1", "--password-cost", "10", "--log-level", "notice"] + arguments
        process.standardOutput = output
        process.standardError = diagnostics
        try process.run()
        let reader = diagnostics.fileHandleForReading
        port = try await Task.detached {
            var collected = ""
            while true {
                let data = reader.availableData
                guard !data.isEmpty else { throw ServerProcessError.exited(collected) }
                collected += String(decoding: data, as: UTF8.self)
                if let line = collected.split(separator: "\n").first(where: { $0.contains("listening") }),
                    let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                    let port = address.split(separator: ":").last.flatMap({ Int($0) })
                {
                    return port
                }
            }
        }.value
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { stop(signal: SIGKILL) }
    }
}

enum ServerProcessError: Error {
    case exited(String)
}
