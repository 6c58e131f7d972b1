import BlueTraceWire
import Logging
import NIOCore
import Synchronization

/// The server's limits on connections and sessions; each refusal is logged once, not per packet.
public struct ConnectionLimits: Sendable, Hashable {
    /// Connections open at once; more are refused (the client is told the server is busy).
    public var maximumConnections: Int = 20_000
    /// New connections per second from one address (a token bucket with a burst of twice this, at least one).
    public var connectionsPerSecondPerAddress: Double = 100
    /// Seconds a connection may take to log in before it is closed.
    public var loginDeadline: Double = 30
    /// Seconds a logged-in session may stay silent before it is closed.
    public var idleTimeout: Double = 3600
    /// Entries one upload may hold.
    public var maximumUploadEntries: Int = 1_000_000

    /// The default limits.
    public init() {}
}

/// Counts open connections and new connections per address, deciding who may connect.
final class Admission: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct State {
        var open = 0
        var buckets: [String: Bucket] = [:]
        var lastSweep = ContinuousClock.now
        var refusalsSinceLog = 0
        var lastLog: ContinuousClock.Instant?
    }

    private let limits: ConnectionLimits
    private let logger: Logger
    private let state = Mutex(State())

    init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Why a new connection from `address` is refused, or `nil` (and it is counted as open).
    func admit(address: String) -> String? {
        let now = ContinuousClock.now
        let (refusal, logNow, refusals) = state.withLock { state -> (String?, Bool, Int) in
            if now - state.lastSweep > .seconds(60) {
                // Forget idle addresses so the table stays small.
                state.buckets = state.buckets.filter { now - $0.value.updated < .seconds(60) }
                state.lastSweep = now
            }
            var refusal: String?
            if state.open >= limits.maximumConnections {
                refusal = "The server is busy (\(limits.maximumConnections) connections); try again later."
            } else {
                let rate = limits.connectionsPerSecondPerAddress
                let burst = max(1, 2 * rate)
                var bucket = state.buckets[address] ?? Bucket(tokens: burst, updated: now)
                let elapsed =
                    Double((now - bucket.updated).components.attoseconds) * 1e-18
                    + Double((now - bucket.updated).components.seconds)
                bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
                bucket.updated = now
                if bucket.tokens >= 1 {
                    bucket.tokens -= 1
                } else {
                    refusal = "Too many new connections from your address; slow down."
                }
                state.buckets[address] = bucket
            }
            guard refusal != nil else {
                state.open += 1
                return (nil, false, 0)
            }
            state.refusalsSinceLog += 1
            guard state.lastLog.map({ now - $0 > .seconds(60) }) ?? true else { return (refusal, false, 0) }
            state.lastLog = now
            let refusals = state.refusalsSinceLog
            state.refusalsSinceLog = 0
            return (refusal, true, refusals)
        }
        if logNow, let refusal {
            logger.warning(
                "refusing connections (logged at most once a minute)",
                metadata: ["reason": "\(refusal)", "refused": "\(refusals)", "address": "\(address)"])
        }
        return refusal
    }

    /// A connection admitted earlier has closed.
    func release() {
        state.withLock { $0.open -= 1 }
    }
}
