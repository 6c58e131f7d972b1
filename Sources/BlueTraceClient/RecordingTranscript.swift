import BlueTraceDomain
import Synchronization

/// A transcript kept in memory that can be awaited: the screen of a `ScriptedClient` (the demo, the UDP simulation,
/// the tests) and of the demo's server.
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
