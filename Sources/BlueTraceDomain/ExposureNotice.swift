/// The health authority's close-contact rule: a traced person is a close contact when at least `minimumEncounters`
/// encounters with the positive person were logged. The simulator scores tracing with it and the server sends
/// exposure notices by it: the one place it is written down.
public struct CloseContactRule: Sendable, Hashable {
    /// Logged encounters that make a close contact.
    public var minimumEncounters: Int

    /// A rule needing `minimumEncounters` logged encounters (at least 1).
    public init(minimumEncounters: Int) {
        precondition(minimumEncounters >= 1)
        self.minimumEncounters = minimumEncounters
    }

    /// The rule for phones that log one encounter per `beaconInterval` seconds: enough encounters to span `minutes`
    /// (ECDC's 15 minutes, at one beacon a minute, is 15).
    public init(minutes: Double, beaconInterval: Int64) {
        self.init(minimumEncounters: max(1, Int((minutes * 60 / Double(beaconInterval)).rounded(.up))))
    }

    /// Whether a person with `encounters` logged encounters is a close contact.
    public func isCloseContact(encounters: Int) -> Bool {
        encounters >= minimumEncounters
    }
}

/// A notice to a traced close contact: that they were near someone who has since tested positive, and when last.
/// It never says who the positive person was.
public struct ExposureNotice: Sendable, Hashable {
    /// The notice's number, for its acknowledgement.
    public var id: Int64
    /// The phone it is for.
    public var phone: String
    /// The last logged encounter with the positive person.
    public var lastEncounter: Timestamp
    /// When the server made it.
    public var createdAt: Timestamp

    /// Creates a notice.
    public init(id: Int64, phone: String, lastEncounter: Timestamp, createdAt: Timestamp) {
        self.id = id
        self.phone = phone
        self.lastEncounter = lastEncounter
        self.createdAt = createdAt
    }

    /// The words a phone shows, with the date of the last encounter written by `format`.
    public static func text(lastEncounter: Timestamp, format: TimestampFormat) -> String {
        "Exposure notice: you were in close contact with someone who has since tested positive, last on "
            + "\(format.string(from: lastEncounter)). Watch for symptoms, get tested, and follow your health "
            + "authority's advice."
    }
}
