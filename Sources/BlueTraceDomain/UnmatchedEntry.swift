/// An uploaded entry that could not be traced.
public struct UnmatchedEntry: Hashable, Sendable {
    /// Its 0-based position in the upload.
    public var index: Int
    /// Its TempID, when one could be read.
    public var tempID: String?
    /// Why it was not traced.
    public var reason: UnmatchedReason
    /// Details, for malformed entries.
    public var detail: String?

    /// Creates an unmatched-entry report.
    public init(index: Int, tempID: String?, reason: UnmatchedReason, detail: String? = nil) {
        self.index = index
        self.tempID = tempID
        self.reason = reason
        self.detail = detail
    }
}
