import ArgumentParser
import BlueTraceDomain
import Foundation
import Logging
import Synchronization

/// The process's standard output as a transcript: the lines a person at the terminal reads.
///
/// When a block arrives while a prompt waits for the person (a beacon heard at the `> ` prompt), the block starts on
/// a fresh line and the prompt is shown again after it.
public final class StandardOutputTranscript: Transcript {
    private let pendingPrompt = Mutex<String?>(nil)

    /// Creates the transcript.
    public init() {}

    public func write(_ lines: [String]) {
        pendingPrompt.withLock { pending in
            var text = pending == nil ? "" : "\n"
            for line in lines {
                text += line
                text += "\n"
            }
            if let pending { text += pending }
            emit(text)
        }
    }

    public func prompt(_ text: String) {
        pendingPrompt.withLock { pending in
            pending = text
            emit(text)
        }
    }

    public func promptAnswered() {
        pendingPrompt.withLock { $0 = nil }
    }

    private func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// A transcript that prefixes every line with a party's label (`server   | …`), for the demo.
public struct PrefixedTranscript: Transcript {
    private let label: String
    private let sink: any Transcript

    /// Creates a transcript labelled `label`, padded to `width`, that writes to `sink`.
    public init(label: String, width: Int = 8, sink: any Transcript) {
        self.label = label.padding(toLength: max(width, label.count), withPad: " ", startingAt: 0)
        self.sink = sink
    }

    public func write(_ lines: [String]) {
        sink.write(lines.map { "\(label) | \($0)" })
    }

    public func prompt(_ text: String) {
        write([text])
    }
}

/// Sets up swift-log once per process: to standard error, at `level`.
enum Logs {
    private static let configured = Mutex(false)

    static func bootstrap(level: Logger.Level) {
        configured.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
