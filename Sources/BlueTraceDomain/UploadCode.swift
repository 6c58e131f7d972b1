/// The rules of one-time upload codes, as the exposure-notification verification server has them: a health official
/// issues a short code bound to one phone; it is used once, expires, and too many wrong guesses void it.
public struct UploadCodePolicy: Sendable, Hashable {
    /// Digits in a code (the verification server's short codes: 8).
    public var digits: Int
    /// Seconds a code stays valid by default (15 minutes).
    public var lifetime: Int64
    /// Wrong codes, counted per phone, that void its pending codes.
    public var maximumFailures: Int

    /// Creates a policy.
    public init(digits: Int = 8, lifetime: Int64 = 15 * 60, maximumFailures: Int = 5) {
        precondition(digits >= 6 && digits <= 18 && lifetime >= 1 && maximumFailures >= 1)
        self.digits = digits
        self.lifetime = lifetime
        self.maximumFailures = maximumFailures
    }
}

/// A code waiting to be used, as stored: never the code itself, only its MAC under a server key.
public struct PendingUploadCode: Sendable, Hashable {
    /// The server key the MAC was made with.
    public var keyID: UInt8
    /// HMAC-SHA256 of the phone and the code.
    public var mac: [UInt8]
    /// When it was issued.
    public var issuedAt: Timestamp
    /// The last second it is valid.
    public var expiresAt: Timestamp

    /// Creates a pending code.
    public init(keyID: UInt8, mac: [UInt8], issuedAt: Timestamp, expiresAt: Timestamp) {
        self.keyID = keyID
        self.mac = mac
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// What one attempt to use a code was found to be.
public enum UploadCodeDecision: Hashable, Sendable {
    /// The code was valid; it is used up.
    case accepted
    /// Not a pending code of this phone; `remainingAttempts` more wrong codes void its pending codes.
    case wrong(remainingAttempts: Int)
    /// The code was right but expired at `expiredAt`; it is gone.
    case expired(expiredAt: Timestamp)
    /// This wrong code was the last allowed: the phone's pending codes are void.
    case voided
    /// The phone has no pending code at all (none issued, or all used, expired or voided).
    case noCode

    /// Whether the upload may go ahead.
    public var isAccepted: Bool { self == .accepted }

    /// What the phone's user is told, and what to do.
    public var explanation: String {
        switch self {
        case .accepted: "The upload code was accepted."
        case .wrong(let remaining):
            "That upload code is not right: check it and upload again (\(remaining) more wrong "
                + "\(remaining == 1 ? "code voids" : "codes void") your codes). Nothing was stored."
        case .expired:
            "That upload code has expired: ask the health official for a new one. Nothing was stored."
        case .voided:
            "Too many wrong upload codes: your codes are void. Ask the health official for a new one. Nothing was "
                + "stored."
        case .noCode:
            "There is no upload code for this phone (it was used, expired or voided, or none was issued): ask the "
                + "health official for one. Nothing was stored."
        }
    }
}

/// One phone's pending upload codes and wrong attempts. The redemption rule is written here, once.
///
/// A pure value, like `LoginState`: the caller supplies the time and how to check a code against a stored MAC, so the
/// rule is tested without a clock or keys, and a store applies it in one transaction.
public struct UploadCodeLedger: Sendable, Hashable {
    /// Codes issued and not yet used, expired or voided.
    public var pending: [PendingUploadCode]
    /// Wrong codes since the last code was issued.
    public var failures: Int

    /// Creates a ledger; the default is a phone with no codes.
    public init(pending: [PendingUploadCode] = [], failures: Int = 0) {
        self.pending = pending
        self.failures = failures
    }

    /// Whether the ledger says nothing and need not be kept.
    public var isEmpty: Bool { pending.isEmpty && failures == 0 }

    /// Adds a freshly issued code; a new code gives the phone a fresh count of wrong attempts.
    public mutating func issue(_ code: PendingUploadCode) {
        pending.append(code)
        failures = 0
    }

    /// Forgets codes that expired before `time`.
    public mutating func dropExpired(at time: Timestamp) {
        pending.removeAll { $0.expiresAt < time }
    }

    /// Decides one attempt at `time`, where `matches` tells whether the code given is the one behind a pending MAC.
    public mutating func redeem(
        at time: Timestamp, policy: UploadCodePolicy, matches: (PendingUploadCode) -> Bool
    ) -> UploadCodeDecision {
        if let position = pending.firstIndex(where: matches) {
            let code = pending.remove(at: position)
            guard time <= code.expiresAt else {
                dropExpired(at: time)
                return .expired(expiredAt: code.expiresAt)
            }
            failures = 0
            return .accepted
        }
        dropExpired(at: time)
        guard !pending.isEmpty else { return .noCode }
        failures += 1
        if failures >= policy.maximumFailures {
            pending = []
            failures = 0
            return .voided
        }
        return .wrong(remainingAttempts: policy.maximumFailures - failures)
    }
}
