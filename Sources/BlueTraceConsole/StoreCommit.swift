/// The store writes whose commit latency is measured.
enum StoreCommit: String, CaseIterable, Sendable {
    case tempIDs = "record_tempids"
    case upload = "record_upload"
    case loginState = "update_login_state"
    case account = "create_account"
    case audit = "record_audit"
    case notices = "record_notices"
    case noticeDelivered = "mark_notice_delivered"
    case uploadCodes = "update_upload_codes"
}
