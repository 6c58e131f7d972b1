/// One encounter as a positive user reported it in an upload.
public struct ReportedEncounter: Hashable, Sendable {
    /// The TempID the user's phone heard.
    public var tempID: TempID
    /// The validity the beacon declared.
    public var validity: ValidityWindow
    /// When the phone heard it, if the upload says.
    public var receivedAt: Timestamp?

    /// Creates a reported encounter.
    public init(tempID: TempID, validity: ValidityWindow, receivedAt: Timestamp? = nil) {
        self.tempID = tempID
        self.validity = validity
        self.receivedAt = receivedAt
    }

    /// The encounter a contact-log entry describes.
    public init(_ entry: ContactLogEntry) {
        self.init(tempID: entry.tempID, validity: entry.validity, receivedAt: entry.receivedAt)
    }
}

/// Why an uploaded encounter could not be traced to a user.
public enum UnmatchedReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// No TempID like it was ever issued.
    case unknownTempID = "unknown_tempid"
    /// The TempID was issued, but with other start or expiry times than the entry claims.
    case timeMismatch = "time_mismatch"
    /// The entry itself is not a well-formed encounter.
    case malformed = "malformed"

    /// A short human explanation.
    public var explanation: String {
        switch self {
        case .unknownTempID: "unknown TempID"
        case .timeMismatch: "times disagree with the issued TempID"
        case .malformed: "malformed entry"
        }
    }
}

/// The outcome of tracing one uploaded encounter.
public enum TraceVerdict: Hashable, Sendable {
    /// The encounter belongs to the user of `grant`.
    case traced(TempIDGrant)
    /// The encounter could not be traced, for `reason`.
    case unmatched(UnmatchedReason)
}

/// The contact-tracing rule: which user an uploaded encounter points to, if any. The one place it is written down.
public enum ContactTracer {
    /// Traces `encounter` with `grant`, the mapping of its TempID if one was issued.
    ///
    /// As in the assignment, an encounter traces when its TempID was issued with the same start and expiry it
    /// claims. When it was heard is kept but not judged here: the client only logs beacons valid when heard, and the
    /// assignment's sample logs hold encounters from other days.
    public static func verdict(for encounter: ReportedEncounter, grant: TempIDGrant?) -> TraceVerdict {
        guard let grant else { return .unmatched(.unknownTempID) }
        guard grant.validity == encounter.validity else { return .unmatched(.timeMismatch) }
        return .traced(grant)
    }
}
