import BlueTraceDomain

/// Something the health authority did, as its observers learn it: the terminal transcript, the simulator's scoring,
/// the notice courier and metrics read these, never the screen. (The audit trail is written by the core itself, so
/// that no step goes unrecorded.)
public enum AuthorityEvent: Sendable {
    /// An account was created.
    case registered(user: String)
    /// A login was accepted.
    case loginAccepted(user: String)
    /// A login was refused: a wrong password or unknown user, or an account blocked until `blockedUntil`.
    case loginRefused(user: String, blockedUntil: Timestamp?)
    /// This failure blocked the account until `until`.
    case userBlocked(user: String, until: Timestamp)
    /// TempIDs were issued to `user` (one, or a sealed batch back to back), recorded and written to tempIDs.txt.
    case tempIDsIssued(user: String, grants: [TempIDGrant])
    /// An upload was traced and committed.
    case uploadTraced(TracedUpload)
    /// `user` logged out.
    case loggedOut(user: String)
    /// An official issued a one-time upload code to `phone`, valid until `expiresAt`.
    case uploadCodeIssued(phone: String, expiresAt: Timestamp)
    /// `phone` tried an upload code; `decision` says how it went.
    case uploadCodeTried(phone: String, decision: UploadCodeDecision)
    /// Exposure notices were stored for the close contacts of a traced upload, to be delivered to their phones.
    case exposureNoticesSent([ExposureNotice])
    /// `phone` acknowledged that it showed exposure notice `id`.
    case exposureNoticeDelivered(phone: String, id: Int64)
}

/// A committed upload with what tracing made of each entry.
public struct TracedUpload: Sendable {
    /// Who uploaded it.
    public var uploader: String
    /// The entries, in upload order.
    public var entries: [UploadEntry]
    /// The grants the traced entries point to, in upload order (one per traced entry).
    public var traced: [TempIDGrant]
    /// The receipt the uploader gets.
    public var receipt: UploadReceipt

    /// Creates a traced upload.
    public init(uploader: String, entries: [UploadEntry], traced: [TempIDGrant], receipt: UploadReceipt) {
        self.uploader = uploader
        self.entries = entries
        self.traced = traced
        self.receipt = receipt
    }
}

/// Learns what the health authority does.
public protocol AuthorityObserver: Sendable {
    /// Called once per event, on whichever thread did the work (an event loop, the store's writer): it must not block.
    func observe(_ event: AuthorityEvent)
}
