import BlueTraceDomain

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
