/// One encounter as a positive user reported it in an upload.
public struct ReportedEncounter: Hashable, Sendable, CarriesIssuedTempID {
    /// The TempID the user's phone heard, with the validity the beacon declared.
    public var issued: IssuedTempID
    /// When the phone heard it, if the upload says.
    public var receivedAt: Timestamp?

    /// Creates a reported encounter.
    public init(issued: IssuedTempID, receivedAt: Timestamp? = nil) {
        self.issued = issued
        self.receivedAt = receivedAt
    }

    /// Creates a reported encounter of `tempID`, declared valid during `validity`.
    public init(tempID: TempID, validity: ValidityWindow, receivedAt: Timestamp? = nil) {
        self.init(issued: IssuedTempID(tempID: tempID, validity: validity), receivedAt: receivedAt)
    }

    /// The encounter a contact-log entry describes.
    public init(_ entry: ContactLogEntry) {
        self.init(issued: entry.issued, receivedAt: entry.receivedAt)
    }
}

/// Why an uploaded encounter could not be traced to a user (OpenTrace's verdict names where they exist).
public enum UnmatchedReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// No TempID like it was ever issued (20-digit scheme).
    case unknownID = "unknown_id"
    /// The TempID does not decrypt under any server key: forged or corrupted (sealed scheme).
    case failedDecryption = "failed_decryption"
    /// The TempID is real, but the entry claims other start or expiry times than it was issued with.
    case timeMismatch = "time_mismatch"
    /// The encounter was heard outside the TempID's validity window (sealed scheme).
    case expiredID = "expired_id"
    /// The entry itself is not a well-formed encounter.
    case malformed = "malformed"

    /// A short human explanation.
    public var explanation: String {
        switch self {
        case .unknownID: "unknown TempID"
        case .failedDecryption: "forged or corrupted TempID"
        case .timeMismatch: "times disagree with the issued TempID"
        case .expiredID: "heard outside the TempID's validity"
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

/// What the health authority learned of a TempID: who it was issued to and when it is valid, or why it is not one.
public enum TempIDLookup: Hashable, Sendable {
    /// The TempID was issued as `grant` says.
    case issued(TempIDGrant)
    /// No such TempID was issued (20-digit scheme).
    case unknown
    /// The TempID does not decrypt (sealed scheme).
    case undecryptable
}

/// The contact-tracing rule: which user an uploaded encounter points to, if any. The one place it is written down.
public enum ContactTracer {
    /// Traces `encounter` given what the authority knows of its TempID.
    ///
    /// An encounter traces when its TempID was issued with the same start and expiry it claims. With
    /// `judgingEncounterTime`, it must also have been heard inside that window (OpenTrace's `expired_id` rule, used for
    /// sealed TempIDs). The assignment's 20-digit scheme does not judge it: the client only logs beacons valid when
    /// heard, and the assignment's sample logs hold encounters from other days.
    public static func verdict(
        for encounter: ReportedEncounter, lookup: TempIDLookup, judgingEncounterTime: Bool
    )
        -> TraceVerdict
    {
        switch lookup {
        case .unknown: return .unmatched(.unknownID)
        case .undecryptable: return .unmatched(.failedDecryption)
        case .issued(let grant):
            guard grant.validity == encounter.validity else { return .unmatched(.timeMismatch) }
            if judgingEncounterTime, let heard = encounter.receivedAt, !grant.validity.contains(heard) {
                return .unmatched(.expiredID)
            }
            return .traced(grant)
        }
    }
}
