import Synchronization

/// Where a party writes the lines a person at its terminal reads (never diagnostics: those go to the logger).
///
/// A block of lines is written together, so concurrent output (a beacon arriving while a command runs) never
/// interleaves inside a block.
public protocol Transcript: Sendable {
    /// Writes `lines`, each followed by a newline.
    func write(_ lines: [String])
    /// Writes `text` with no newline (an interactive prompt).
    func prompt(_ text: String)
}

extension Transcript {
    /// Writes one line.
    public func write(_ line: String) { write([line]) }
}

/// A transcript kept in memory, for tests and for the demo's labelled output.
public final class RecordingTranscript: Transcript {
    private let state = Mutex<[String]>([])
    private let forward: (@Sendable ([String]) -> Void)?

    /// Creates an empty transcript; each written block is also handed to `forward`, if given.
    public init(forward: (@Sendable ([String]) -> Void)? = nil) {
        self.forward = forward
    }

    /// Every line written so far (prompts included, as lines).
    public var lines: [String] { state.withLock { $0 } }

    public func write(_ lines: [String]) {
        state.withLock { $0.append(contentsOf: lines) }
        forward?(lines)
    }

    public func prompt(_ text: String) {
        write([text])
    }
}
