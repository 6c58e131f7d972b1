import Foundation
import Synchronization

/// A source of the current wall-clock time; injected everywhere a rule depends on "now".
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The operating system's clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}

    public func now() -> Timestamp {
        Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970.rounded(.down)))
    }
}

/// A clock that only moves when told to: for tests and simulations.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Timestamp>

    /// Creates a clock standing at `start`.
    public init(_ start: Timestamp) {
        self.current = Mutex(start)
    }

    public func now() -> Timestamp {
        current.withLock { $0 }
    }

    /// Moves the clock forward by `seconds`.
    public func advance(by seconds: Int64) {
        current.withLock { $0 = $0 + seconds }
    }

    /// Sets the clock to `time`.
    public func set(_ time: Timestamp) {
        current.withLock { $0 = time }
    }
}
