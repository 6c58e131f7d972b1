import BlueTraceDomain
import BlueTraceStore

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
    /// Where the traced grants come from: given, or read from the stored record when asked for.
    private enum Traced: Sendable {
        case grants([TempIDGrant])
        case record(UploadRecord)
    }

    /// Who uploaded it.
    public var uploader: String
    /// The entries, in upload order.
    public var entries: [UploadEntry]
    private var tracedSource: Traced
    /// The receipt the uploader gets.
    public var receipt: UploadReceipt

    /// The grants the traced entries point to, in upload order (one per traced entry). Made when asked for from the
    /// stored record (a traced entry claims exactly its grant's TempID and window, and points to its user), so that
    /// an observer that only counts never makes a million of them.
    public var traced: [TempIDGrant] {
        switch tracedSource {
        case .grants(let grants): return grants
        case .record(let record):
            return record.encounters.compactMap { encounter in
                guard let user = encounter.contact, let raw = encounter.tempID, let tempID = TempID(raw),
                    let validity = encounter.validity
                else { return nil }
                return TempIDGrant(user: user, tempID: tempID, validity: validity)
            }
        }
    }

    /// Creates a traced upload.
    public init(uploader: String, entries: [UploadEntry], traced: [TempIDGrant], receipt: UploadReceipt) {
        self.uploader = uploader
        self.entries = entries
        self.tracedSource = .grants(traced)
        self.receipt = receipt
    }

    /// The traced upload of `record`, stored from `entries`.
    init(entries: [UploadEntry], record: UploadRecord, receipt: UploadReceipt) {
        self.uploader = record.uploader
        self.entries = entries
        self.tracedSource = .record(record)
        self.receipt = receipt
    }
}

/// Learns what the health authority does.
public protocol AuthorityObserver: Sendable {
    /// Called once per event, on whichever thread did the work (an event loop, the store's writer): it must not block.
    func observe(_ event: AuthorityEvent)
}
