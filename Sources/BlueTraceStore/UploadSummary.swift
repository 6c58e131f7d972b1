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

/// One page of uploads, newest first, and how many uploads there are in all.
public struct UploadPage: Hashable, Sendable {
    /// Uploads in the store.
    public var total: Int
    /// This page's uploads, newest first.
    public var uploads: [UploadSummary]

    /// Creates a page.
    public init(total: Int, uploads: [UploadSummary]) {
        self.total = total
        self.uploads = uploads
    }
}

/// Where a phone's latest exposure notice is: made at `createdAt`, delivered at `deliveredAt` (or not yet).
public struct NoticeStatus: Hashable, Sendable {
    /// The notice's number.
    public var id: Int64
    /// When the server made it.
    public var createdAt: Timestamp
    /// When the phone acknowledged it; `nil` while pending.
    public var deliveredAt: Timestamp?

    /// Creates a status.
    public init(id: Int64, createdAt: Timestamp, deliveredAt: Timestamp?) {
        self.id = id
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}
