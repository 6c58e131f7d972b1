import BlueTraceDomain

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
