import NIOCore
import Synchronization

/// The server's open connections, so that shutting down can tell each one and wait until all are closed.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var goingAway = false
        var whenEmpty: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Adds an open connection and removes it once closed; one opened during shutdown is told at once.
    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let goingAway = state.withLock { state in
            state.channels[key] = channel
            return state.goingAway
        }
        channel.closeFuture.whenComplete { _ in
            let waiters = self.state.withLock { state in
                state.channels[key] = nil
                guard state.channels.isEmpty else { return [CheckedContinuation<Void, Never>]() }
                defer { state.whenEmpty = [] }
                return state.whenEmpty
            }
            for waiter in waiters { waiter.resume() }
        }
        if goingAway { Self.tellGoingAway(channel) }
    }

    /// Tells every connection, and every one opened from now on, that the server is going away.
    func goAway() {
        let channels = state.withLock { state in
            state.goingAway = true
            return Array(state.channels.values)
        }
        for channel in channels { Self.tellGoingAway(channel) }
    }

    /// Closes every connection at once, without a word (the server's task was cancelled).
    func closeAll() {
        for channel in state.withLock({ Array($0.channels.values) }) { channel.close(promise: nil) }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let empty = state.withLock { state in
                if !state.channels.isEmpty { state.whenEmpty.append(continuation) }
                return state.channels.isEmpty
            }
            if empty { continuation.resume() }
        }
    }

    private static func tellGoingAway(_ channel: any Channel) {
        channel.pipeline.fireUserInboundEventTriggered(SessionHandler.GoingAway())
    }
}
