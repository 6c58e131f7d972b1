import Synchronization

/// A one-shot barrier: clients wait on it until the coordinator opens it (with a value) or calls the run off.
final class Gate<Value: Sendable>: Sendable {
    /// What a waiting client learns.
    enum Outcome: Sendable {
        case opened(Value)
        case aborted
    }

    private struct State {
        var outcome: Outcome?
        var waiters: [Int: CheckedContinuation<Outcome, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Waits until the gate opens or is aborted; a cancelled waiter sees `.aborted`.
    func wait() async -> Outcome {
        let key = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let decided: Outcome? = state.withLock { state in
                    if let outcome = state.outcome { return outcome }
                    state.waiters[key] = continuation
                    return nil
                }
                if let decided { continuation.resume(returning: decided) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume(returning: .aborted)
        }
    }

    /// Lets every waiter (present and future) through with `value`.
    func open(_ value: Value) { decide(.opened(value)) }

    /// Turns every waiter (present and future) back.
    func abort() { decide(.aborted) }

    private func decide(_ outcome: Outcome) {
        let waiters = state.withLock { state -> [CheckedContinuation<Outcome, Never>] in
            guard state.outcome == nil else { return [] }
            state.outcome = outcome
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }
}
