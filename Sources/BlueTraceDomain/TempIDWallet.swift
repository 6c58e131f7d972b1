/// The TempIDs a phone holds: one downloaded ID, or a batch covering the next hours, used in turn.
public struct TempIDWallet: Sendable {
    /// The TempIDs held, in order of validity.
    public private(set) var grants: [IssuedTempID] = []
    /// Whether the wallet was last filled with a batch (and so should be renewed automatically when it runs out).
    public private(set) var holdsBatch = false

    /// Creates an empty wallet.
    public init() {}

    /// Replaces the wallet's TempIDs with `grants`.
    public mutating func fill(with grants: [IssuedTempID]) {
        self.grants = grants.sorted { $0.validity.start < $1.validity.start }
        holdsBatch = grants.count > 1
    }

    /// The TempID to broadcast at `time`: the one valid then, or else the latest one (expired or not yet valid), so
    /// that an expired ID can still be sent and seen to be invalid.
    public func tempID(at time: Timestamp) -> (issued: IssuedTempID, isValid: Bool)? {
        if let valid = grants.last(where: { $0.validity.contains(time) }) { return (valid, true) }
        return grants.last.map { ($0, false) }
    }

    /// The TempID valid at `time`, discarding those that expired before it (time only moves forward), or `nil`.
    /// Amortised constant time, for phones that ask every beacon interval.
    public mutating func current(at time: Timestamp) -> IssuedTempID? {
        var expired = 0
        while expired < grants.count, grants[expired].validity.expiry < time { expired += 1 }
        if expired > 0 { grants.removeFirst(expired) }
        guard let first = grants.first, first.validity.contains(time) else { return nil }
        return first
    }

    /// Whether a batch has run out at `time`: no TempID valid now or later.
    public func needsRenewal(at time: Timestamp) -> Bool {
        holdsBatch && !grants.contains { $0.validity.expiry >= time }
    }
}
