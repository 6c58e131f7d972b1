/// What tracing an upload found: how many entries arrived, how many were traced, and why the rest were not.
public struct UploadReceipt: Hashable, Sendable {
    /// Entries received.
    public var received: Int
    /// Entries traced to a user.
    public var matched: Int
    /// The entries that were not traced, by position in the upload.
    public var unmatched: [UnmatchedEntry]

    /// Creates a receipt.
    public init(received: Int, matched: Int, unmatched: [UnmatchedEntry]) {
        self.received = received
        self.matched = matched
        self.unmatched = unmatched
    }
}
