import Foundation
import Synchronization

/// A child process (the real `bluetrace` executable unless told otherwise), with every byte it writes read as it comes (a pipe that
/// nobody drains fills at 64 KiB and freezes the child) or sent to /dev/null.
final class ChildProcess: Sendable {
    /// Where the child's standard output goes.
    enum StandardOutput {
        /// Read to the end and kept (`finish()` returns it).
        case collect
        /// /dev/null.
        case discard
        /// A pipe the test keeps open and never reads: only for the test that the server survives exactly that.
        case pipeNeverRead
    }

    /// The process.
    let process: Process
    /// Standard error, read as it comes.
    let errors: OutputDrain
    /// Standard output, read as it comes, when collected.
    let output: OutputDrain?
    /// The read end of a pipe that is never read, kept open until the child ends.
    private let unreadPipe: Pipe?
    private let exited = ExitSignal()

    /// The `bluetrace` binary SwiftPM built next to the test bundle.
    static var executable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("bluetrace").path)
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("bluetrace")
    }

    /// Starts `bluetrace arguments…` (or another `executable`) in `directory`, with `input` as its standard input
    /// (none when `nil`).
    init(
        _ arguments: [String], in directory: String, standardOutput: StandardOutput = .collect,
        executable: URL = executable, input: String? = nil
    ) throws {
        process = Process()
        process.executableURL = executable
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.arguments = arguments
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        let errorPipe = Pipe()
        process.standardError = errorPipe
        var outputPipe: Pipe?
        switch standardOutput {
        case .collect, .pipeNeverRead:
            outputPipe = Pipe()
            process.standardOutput = outputPipe
        case .discard:
            process.standardOutput = FileHandle.nullDevice
        }
        unreadPipe = standardOutput == .pipeNeverRead ? outputPipe : nil
        let exited = exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let inputPipe, let input {
            // Small (a password line): it fits in the pipe's buffer, so writing cannot wait for the child.
            try inputPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        // The parent's copies of the write ends must go, or the drains would never see the end of the output.
        try errorPipe.fileHandleForWriting.close()
        try outputPipe?.fileHandleForWriting.close()
        errors = OutputDrain(errorPipe.fileHandleForReading)
        output = standardOutput == .collect ? outputPipe.map { OutputDrain($0.fileHandleForReading) } : nil
    }

    /// Waits for the child to end and for all its output; returns its exit status, standard output (empty unless
    /// collected) and standard error.
    func finish() async -> (status: Int32, output: String, errors: String) {
        await exited.wait()
        let printed = await output?.untilEnd() ?? ""
        let diagnostics = await errors.untilEnd()
        return (process.terminationStatus, printed, diagnostics)
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func stop(signal: Int32) async -> Int32 {
        kill(process.processIdentifier, signal)
        return await finish().status
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Reads a file handle to its end on a thread of its own, keeping what it read, and tells waiters as text arrives.
final class OutputDrain: Sendable {
    private struct Waiter {
        var check: @Sendable (String) -> Int?
        var continuation: CheckedContinuation<Int?, Never>
    }

    private struct State {
        var data = Data()
        var ended = false
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Starts reading `handle`.
    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                let ready = state.withLock { state -> [(CheckedContinuation<Int?, Never>, Int?)] in
                    if chunk.isEmpty { state.ended = true } else { state.data += chunk }
                    guard !state.waiters.isEmpty else { return [] }
                    let text = String(decoding: state.data, as: UTF8.self)
                    var ready: [(CheckedContinuation<Int?, Never>, Int?)] = []
                    state.waiters.removeAll { waiter in
                        if let found = waiter.check(text) {
                            ready.append((waiter.continuation, found))
                            return true
                        }
                        if state.ended {
                            ready.append((waiter.continuation, nil))
                            return true
                        }
                        return false
                    }
                    return ready
                }
                for (continuation, value) in ready { continuation.resume(returning: value) }
                if chunk.isEmpty { return }
            }
        }
        thread.start()
    }

    /// What was read so far.
    var text: String { state.withLock { String(decoding: $0.data, as: UTF8.self) } }

    /// Waits until `check` finds a number in the text read so far; nil when the output ends first.
    func first(_ check: @escaping @Sendable (String) -> Int?) async -> Int? {
        await withCheckedContinuation { continuation in
            let now: Int?? = state.withLock { state in
                if let found = check(String(decoding: state.data, as: UTF8.self)) { return found }
                if state.ended { return .some(nil) }
                state.waiters.append(Waiter(check: check, continuation: continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Waits until the output ends and returns all of it.
    func untilEnd() async -> String {
        _ = await first { _ in nil }
        return text
    }
}

/// Signalled once, awaited by any number of tasks.
private final class ExitSignal: Sendable {
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func signal() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}

/// The repository's root (for its scripts/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Runs `bash scripts/NAME arguments…` from the repository's root to its end; returns its exit status, standard
/// output and standard error.
func runScript(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
    try await ChildProcess(
        ["\(repositoryRoot)/scripts/\(name)"] + arguments, in: repositoryRoot,
        executable: URL(fileURLWithPath: "/bin/bash")
    ).finish()
}

/// Runs `bluetrace arguments…` in `directory` to its end, with no standard input; returns its exit status, standard
/// output and standard error.
func runBluetrace(
    _ arguments: [String], in directory: String, input: String? = nil
) async throws -> (
    status: Int32, output: String, errors: String
) {
    try await ChildProcess(arguments, in: directory, input: input).finish()
}
