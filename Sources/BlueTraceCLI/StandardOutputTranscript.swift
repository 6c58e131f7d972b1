import BlueTraceDomain
import Synchronization

/// The process's standard output as a transcript: the lines a person at the terminal reads.
///
/// Lines go through a `TerminalWriter`, so writing never waits on the terminal. When a block arrives while a prompt
/// waits for the person (a beacon heard at the `> ` prompt), the block starts on a fresh line and the prompt is shown
/// again after it.
public final class StandardOutputTranscript: Transcript {
    private let pendingPrompt = Mutex<String?>(nil)
    private let writer: TerminalWriter

    /// Creates the transcript, writing through `writer`.
    public init(writer: TerminalWriter = .standardOutput) {
        self.writer = writer
    }

    public func write(_ lines: [String]) {
        pendingPrompt.withLock { pending in
            var text = pending == nil ? "" : "\n"
            for line in lines {
                text += line
                text += "\n"
            }
            if let pending { text += pending }
            writer.write(text, lines: lines.count)
        }
    }

    public func prompt(_ text: String) {
        pendingPrompt.withLock { pending in
            pending = text
            writer.write(text, lines: 0)
        }
    }

    public func promptAnswered() {
        pendingPrompt.withLock { $0 = nil }
    }

    public var blockCapacity: Int? { writer.capacity }

    public func skip(lines: Int) { writer.drop(lines: lines) }
}
