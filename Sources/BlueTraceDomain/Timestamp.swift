/// A point in wall-clock time with one-second resolution, as every BlueTrace time field carries.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01 00:00:00 UTC.
    public var secondsSinceEpoch: Int64

    /// Creates a timestamp from whole seconds since the Unix epoch.
    public init(secondsSinceEpoch: Int64) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.secondsSinceEpoch < rhs.secondsSinceEpoch
    }

    /// The timestamp `seconds` later (or earlier, when negative).
    public static func + (lhs: Timestamp, seconds: Int64) -> Timestamp {
        Timestamp(secondsSinceEpoch: lhs.secondsSinceEpoch + seconds)
    }

    /// The timestamp `seconds` earlier.
    public static func - (lhs: Timestamp, seconds: Int64) -> Timestamp {
        Timestamp(secondsSinceEpoch: lhs.secondsSinceEpoch - seconds)
    }

    /// Seconds from `rhs` to `lhs`.
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Int64 {
        lhs.secondsSinceEpoch - rhs.secondsSinceEpoch
    }

    public var description: String { "@\(secondsSinceEpoch)" }

    public init(from decoder: any Decoder) throws {
        self.secondsSinceEpoch = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(secondsSinceEpoch)
    }
}

/// The closed interval of time in which a TempID is valid: `start ≤ t ≤ expiry`.
public struct ValidityWindow: Hashable, Sendable {
    /// The first second in which the TempID is valid.
    public var start: Timestamp
    /// The last second in which the TempID is valid.
    public var expiry: Timestamp

    /// Creates a window from its first and last valid second.
    public init(start: Timestamp, expiry: Timestamp) {
        self.start = start
        self.expiry = expiry
    }

    /// Whether `time` lies inside the window (both ends included), the assignment's beacon validity rule.
    public func contains(_ time: Timestamp) -> Bool {
        start <= time && time <= expiry
    }
}
