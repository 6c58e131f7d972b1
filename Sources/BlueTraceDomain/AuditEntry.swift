/// One step of the health authority's work, as the audit trail records it: when, who, what, about whom.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// When it happened.
    public var at: Timestamp
    /// Who did it: a phone number, or the name of the official (the operating-system user running the command).
    public var actor: String
    /// What was done.
    public var action: AuditAction
    /// Whom it concerned (the phone a code was issued to, the person traced), if anyone.
    public var subject: String?
    /// Details for a person reading the trail (never a code, a password or a TempID's owner's secrets).
    public var detail: String

    /// Creates an entry.
    public init(at: Timestamp, actor: String, action: AuditAction, subject: String? = nil, detail: String = "") {
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// The kind of step an audit entry records. A name, not a closed list: entries written by a later version keep the
/// name they were given.
public struct AuditAction: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The action's name as stored and printed.
    public let rawValue: String

    /// An action named `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// An official issued a one-time upload code.
    public static let codeIssued = AuditAction(rawValue: "code_issued")
    /// A phone used its upload code.
    public static let codeRedeemed = AuditAction(rawValue: "code_redeemed")
    /// A phone's upload was refused for its code (wrong, expired, missing, voided).
    public static let codeRefused = AuditAction(rawValue: "code_refused")
    /// A phone uploaded its contact log and it was traced.
    public static let upload = AuditAction(rawValue: "upload")
    /// An official listed the contacts traced from a person's uploads.
    public static let traceQuery = AuditAction(rawValue: "trace_query")
    /// The server made an exposure notice for a close contact.
    public static let noticeSent = AuditAction(rawValue: "notice_sent")
    /// A phone acknowledged that it showed its exposure notice.
    public static let noticeDelivered = AuditAction(rawValue: "notice_delivered")
    /// An official logged in to the console (or was refused: the detail says which).
    public static let consoleLogin = AuditAction(rawValue: "console_login")
    /// An official opened a page of the console (the subject is the page).
    public static let consoleView = AuditAction(rawValue: "console_view")
}
