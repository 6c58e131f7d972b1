import BlueTraceDomain
import Logging
import NIOCore
import NIOPosix

/// A client driven by a program instead of a person: a scripted keyboard and a recorded screen.
///
/// The demo and the end-to-end tests use it to run real clients (real sockets, real files) step by step: `type`
/// returns once the client has handled the lines, and `screen` can be awaited for a line.
public struct ScriptedClient: Sendable {
    /// The client's keyboard.
    public let keyboard: ScriptedInput
    /// Everything the client has printed.
    public let screen: RecordingTranscript
    /// The UDP port the client hears beacons on.
    public let beaconPort: Int
    private let run: Task<ClientOutcome, any Error>

    /// Starts a client; returns once its beacon socket is bound. Throws what `BlueTraceClient.run` throws at start.
    public static func start(
        configuration: ClientConfiguration,
        clock: any WallClock = SystemWallClock(),
        screen: RecordingTranscript = RecordingTranscript(),
        observers: [any PhoneObserver] = [],
        logger: Logger = Logger(label: "bluetrace.client")
    ) async throws -> ScriptedClient {
        let keyboard = ScriptedInput(transcript: screen)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let client = BlueTraceClient(
            configuration: configuration, clock: clock, transcript: screen, observers: observers, logger: logger,
            onBeaconSocket: { address in
                portContinuation.yield(address.port ?? 0)
                portContinuation.finish()
            })
        let run = Task {
            defer { portContinuation.finish() }
            do {
                let outcome = try await client.run(input: keyboard)
                await keyboard.clientEnded()
                return outcome
            } catch {
                await keyboard.clientEnded()
                throw error
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await run.value
            throw CancellationError()
        }
        return ScriptedClient(keyboard: keyboard, screen: screen, beaconPort: port, run: run)
    }

    /// Types `lines` one after the other, each once the client asks for input, and returns when the client has
    /// handled the last one (it asks for more input, or has ended).
    public func type(_ lines: String...) async {
        for line in lines { await keyboard.send(line) }
        await keyboard.untilWaiting()
    }

    /// Closes the keyboard (end of input) once the client asks for its next line.
    public func endInput() async {
        await keyboard.finish()
    }

    /// Waits until the screen shows a line containing `text` at index `from` or later; returns its index.
    @discardableResult
    public func expect(_ text: String, from: Int = 0, timeout: Duration = .seconds(30)) async throws -> Int {
        try await screen.waitForLine(containing: text, from: from, timeout: timeout)
    }

    /// How the client's run ended; waits for it.
    public func outcome() async throws -> ClientOutcome {
        try await run.value
    }

    /// Stops the client without logging out (as if the phone were switched off).
    public func kill() {
        run.cancel()
    }
}
