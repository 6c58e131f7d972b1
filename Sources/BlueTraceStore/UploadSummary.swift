import BlueTraceDomain

/// One upload as the cases list shows it: who, when, how many entries and how many of them traced.
public struct UploadSummary: Hashable, Sendable {
    /// The upload's id (as `recordUpload` returned it).
    public var id: Int64
    /// The uploader's username.
    public var uploader: String
    /// When the server received it.
    public var receivedAt: Timestamp
    /// Entries uploaded.
    public var entries: Int
    /// Entries that traced to a person.
    public var traced: Int

    /// Creates a summary.
    public init(id: Int64, uploader: String, receivedAt: Timestamp, entries: Int, traced: Int) {
        self.id = id
        self.uploader = uploader
        self.receivedAt = receivedAt
        self.entries = entries
        self.traced = traced
    }
}
