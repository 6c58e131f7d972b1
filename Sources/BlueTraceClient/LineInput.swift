import BlueTraceDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the client's commands come from: a person at a terminal, a piped script, or a test.
public protocol LineInput: Sendable {
    /// Shows `prompt`, then returns the next line without its line ending, or `nil` at end of input.
    /// A `secret` line (a password) is not echoed.
    func readLine(prompt: String, secret: Bool) async -> String?
}

/// Standard input, read one line at a time on a thread of its own (never on an event loop).
///
/// At a terminal, prompts are shown without a newline and secrets are read with echo turned off. When input is piped
/// from a file or another program, each prompt is printed with the line it consumed (secrets hidden), so the output
/// reads like a terminal session.
public actor StandardInput: LineInput {
    private var lines: AsyncStream<String>.Iterator
    private let transcript: any Transcript
    /// Whether standard input is a terminal.
    public nonisolated let isTerminal: Bool

    /// Starts reading standard input; prompts and echoes go to `transcript`.
    public init(transcript: any Transcript) {
        self.transcript = transcript
        self.isTerminal = isatty(STDIN_FILENO) == 1
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        self.lines = stream.makeAsyncIterator()
        let thread = Thread {
            while let line = Swift.readLine(strippingNewline: true) {
                continuation.yield(line.hasSuffix("\r") ? String(line.dropLast()) : line)
            }
            continuation.finish()
        }
        thread.name = "bluetrace-stdin"
        thread.start()
    }

    public func readLine(prompt: String, secret: Bool) async -> String? {
        if isTerminal {
            transcript.prompt(prompt)
            let echo = secret ? Self.disableEcho() : nil
            var iterator = lines
            let line = await iterator.next(isolation: self)
            lines = iterator
            transcript.promptAnswered()
            if let echo {
                Self.restore(echo)
                transcript.write("")  // The line ending the person typed was not echoed either.
            }
            return line
        }
        var iterator = lines
        let line = await iterator.next(isolation: self)
        lines = iterator
        if let line { transcript.write(secret ? prompt : prompt + line) }
        return line
    }

    private static func disableEcho() -> termios? {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return nil }
        var silent = settings
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        return settings
    }

    private static func restore(_ settings: termios) {
        var settings = settings
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }
}

/// Input fed line by line by a program (the demo, tests): each line is handed over only when the client asks for one,
/// so a script can wait for a command to finish before sending the next.
public actor ScriptedInput: LineInput {
    private let transcript: any Transcript
    private var reader: CheckedContinuation<String?, Never>?
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var ended = false
    private var clientGone = false

    /// Creates a script; consumed lines are echoed after their prompt to `transcript`, secrets hidden.
    public init(transcript: any Transcript) {
        self.transcript = transcript
    }

    public func readLine(prompt: String, secret: Bool) async -> String? {
        if ended { return nil }
        let line = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                reader = continuation
                for waiter in idleWaiters { waiter.resume() }
                idleWaiters.removeAll()
            }
        } onCancel: {
            Task { await self.deliver(nil) }
        }
        if let line { transcript.write(secret ? prompt : prompt + line) }
        return line
    }

    /// Waits until the client asks for a line, then hands it `line` (dropped if the client has ended).
    public func send(_ line: String) async {
        await untilWaiting()
        deliver(line)
    }

    /// Tells the script the client has stopped reading, so nobody waits for it to ask again.
    public func clientEnded() {
        clientGone = true
        for waiter in idleWaiters { waiter.resume() }
        idleWaiters.removeAll()
    }

    /// Waits until the client asks for a line, then tells it input has ended.
    public func finish() async {
        await untilWaiting()
        ended = true
        deliver(nil)
    }

    /// Returns once the client is waiting for its next line (everything sent before has been handled), or has ended.
    public func untilWaiting() async {
        if reader != nil || clientGone { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func deliver(_ line: String?) {
        reader?.resume(returning: line)
        reader = nil
    }
}
