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
    /// Says the person answered the last prompt (their line ending is on the screen), so no prompt is pending.
    func promptAnswered()
    /// Whether every line written is dropped unread, so a writer may skip making them (a million-entry upload
    /// prints three million lines).
    var discardsLines: Bool { get }
}

extension Transcript {
    /// Writes one line.
    public func write(_ line: String) { write([line]) }

    /// Does nothing: only terminals track pending prompts.
    public func promptAnswered() {}

    /// Someone reads what most transcripts write.
    public var discardsLines: Bool { false }
}

/// A transcript that drops every line: the terminal of a simulated or benchmarked server, which nobody reads.
public struct DiscardingTranscript: Transcript {
    /// Creates the transcript.
    public init() {}

    public func write(_ lines: [String]) {}

    public func prompt(_ text: String) {}

    public var discardsLines: Bool { true }
}

/// The assignment's way of printing an encounter: TempID, start and expiry one per line (`TempID,` `start,`
/// `expiry;`), as clients print beacons and uploads and the server prints received contact logs.
public func encounterLines(tempID: TempID, validity: ValidityWindow, format: TimestampFormat) -> [String] {
    ["\(tempID),", "\(format.string(from: validity.start)),", "\(format.string(from: validity.expiry));"]
}

/// A transcript kept in memory that can be awaited, for tests and for the demo.
public final class RecordingTranscript: Transcript {
    private struct Waiter {
        var from: Int
        var text: String
        var continuation: CheckedContinuation<Int?, Never>
    }

    private struct State {
        var lines: [String] = []
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    private let forward: (any Transcript)?

    /// Creates an empty transcript; every block written is also passed on to `forward`, if given.
    public init(forward: (any Transcript)? = nil) {
        self.forward = forward
    }

    /// Every line written so far (prompts included, as lines).
    public var lines: [String] { state.withLock { $0.lines } }

    /// The line at `index`, if written yet (without copying the whole transcript).
    public func line(_ index: Int) -> String? {
        state.withLock { $0.lines.indices.contains(index) ? $0.lines[index] : nil }
    }

    public func write(_ lines: [String]) {
        let ready: [(CheckedContinuation<Int?, Never>, Int)] = state.withLock { state in
            let firstNew = state.lines.count
            state.lines.append(contentsOf: lines)
            var ready: [(CheckedContinuation<Int?, Never>, Int)] = []
            for (key, waiter) in state.waiters {
                let start = max(firstNew, waiter.from)
                guard start < state.lines.count,
                    let index = state.lines[start...].firstIndex(where: { $0.contains(waiter.text) })
                else { continue }
                ready.append((waiter.continuation, index))
                state.waiters[key] = nil
            }
            return ready
        }
        forward?.write(lines)
        for (continuation, index) in ready { continuation.resume(returning: index) }
    }

    public func prompt(_ text: String) {
        write([text])
    }

    /// Waits until a line at index `from` or later contains `text`, and returns its index.
    ///
    /// Throws `TranscriptWaitTimeout` (listing the lines so far) when none appears within `timeout`.
    @discardableResult
    public func waitForLine(
        containing text: String, from: Int = 0, timeout: Duration = .seconds(30)
    ) async throws
        -> Int
    {
        let found = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { await self.lineIndex(containing: text, from: from) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        guard let found else { throw TranscriptWaitTimeout(text: text, lines: lines) }
        return found
    }

    private func lineIndex(containing text: String, from: Int) async -> Int? {
        let key = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
                let existing: Int?? = state.withLock { state in
                    if from < state.lines.count,
                        let index = state.lines[from...].firstIndex(where: { $0.contains(text) })
                    {
                        return index
                    }
                    // Cancelled before registering: the cancellation handler found nothing to resume.
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[key] = Waiter(from: from, text: text, continuation: continuation)
                    return nil
                }
                if let existing { continuation.resume(returning: existing) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.continuation.resume(returning: nil)
        }
    }
}

/// No line with the awaited text appeared in time.
public struct TranscriptWaitTimeout: Error, CustomStringConvertible {
    /// The text awaited.
    public var text: String
    /// The transcript's lines when the wait gave up.
    public var lines: [String]

    public var description: String {
        "no line containing \"\(text)\" appeared; the transcript was:\n" + lines.joined(separator: "\n")
    }
}
