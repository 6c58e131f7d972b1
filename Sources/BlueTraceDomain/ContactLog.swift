/// One encounter in a phone's contact log: the TempID it heard, that TempID's validity, and when it was heard.
public struct ContactLogEntry: Hashable, Sendable, CarriesIssuedTempID {
    /// The TempID received in the beacon, with the validity the beacon declared.
    public var issued: IssuedTempID
    /// When this phone received the beacon.
    public var receivedAt: Timestamp

    /// Creates an entry.
    public init(issued: IssuedTempID, receivedAt: Timestamp) {
        self.issued = issued
        self.receivedAt = receivedAt
    }

    /// Creates an entry for `tempID`, declared valid during `validity`.
    public init(tempID: TempID, validity: ValidityWindow, receivedAt: Timestamp) {
        self.init(issued: IssuedTempID(tempID: tempID, validity: validity), receivedAt: receivedAt)
    }
}

/// How long a phone keeps an encounter: the one place the contact-log retention rule is written down.
public struct RetentionPolicy: Sendable, Hashable {
    /// The assignment's contact-log retention: 3 minutes.
    public static let assignmentRetention: Int64 = 180

    /// Seconds an entry is kept after it was received.
    public var retention: Int64

    /// Creates a policy keeping entries for `retention` seconds.
    public init(retention: Int64 = RetentionPolicy.assignmentRetention) {
        precondition(retention >= 0)
        self.retention = retention
    }

    /// Whether an entry received at `receivedAt` is still kept at `time`: its age must not exceed the retention.
    public func keeps(receivedAt: Timestamp, at time: Timestamp) -> Bool {
        time - receivedAt <= retention
    }

    /// The first second at which an entry received at `receivedAt` is no longer kept.
    public func removalTime(receivedAt: Timestamp) -> Timestamp {
        receivedAt + (retention + 1)
    }
}

/// A phone's contact log: its entries, and the text form `<user>_contactlog.txt` holds.
///
/// Each line begins with the assignment's three fields `TempID start expiry` (times `DD/MM/YYYY HH:MM:SS`) followed
/// by a fourth, the receive time, so retention survives restarts. Lines with only the three assignment fields are
/// accepted too; their receive time is taken as the moment the file is read.
public struct ContactLog: Sendable, Hashable {
    /// The entries, oldest first.
    public private(set) var entries: [ContactLogEntry]

    /// Creates a log holding `entries`.
    public init(entries: [ContactLogEntry] = []) {
        self.entries = entries
    }

    /// Adds an encounter.
    public mutating func append(_ entry: ContactLogEntry) {
        entries.append(entry)
    }

    /// Removes every entry the policy no longer keeps at `time`; returns how many were removed.
    @discardableResult
    public mutating func prune(at time: Timestamp, policy: RetentionPolicy) -> Int {
        let before = entries.count
        entries.removeAll { !policy.keeps(receivedAt: $0.receivedAt, at: time) }
        return before - entries.count
    }

    /// When the next entry will fall out of retention, if any.
    public func nextRemoval(policy: RetentionPolicy) -> Timestamp? {
        entries.map(\.receivedAt).min().map(policy.removalTime(receivedAt:))
    }

    /// The file text: one line per entry, each ending in a newline.
    public func text(format: TimestampFormat) -> String {
        var text = ""
        for entry in entries {
            text += Self.line(for: entry, format: format)
            text += "\n"
        }
        return text
    }

    /// One entry's line, without a line ending.
    public static func line(for entry: ContactLogEntry, format: TimestampFormat) -> String {
        "\(entry.tempID) \(format.string(from: entry.validity.start)) \(format.string(from: entry.validity.expiry)) "
            + format.string(from: entry.receivedAt)
    }

    /// Parses a contact log file. Lines that are not entries are reported with their number and skipped.
    public static func parse(
        _ text: String, format: TimestampFormat, readAt time: Timestamp
    )
        -> (log: ContactLog, problems: [LineProblem])
    {
        var log = ContactLog()
        var problems: [LineProblem] = []
        for (number, line) in numberedLines(of: text) {
            if line.allSatisfy(\.isWhitespace) { continue }
            if let entry = parseLine(line, format: format, readAt: time) {
                log.append(entry)
            } else {
                problems.append(
                    LineProblem(
                        line: number,
                        reason: "expected `TempID DD/MM/YYYY HH:MM:SS DD/MM/YYYY HH:MM:SS [DD/MM/YYYY HH:MM:SS]`"))
            }
        }
        return (log, problems)
    }

    private static func parseLine(
        _ line: Substring, format: TimestampFormat, readAt time: Timestamp
    )
        -> ContactLogEntry?
    {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == ";" })
        guard fields.count == 5 || fields.count == 7, let tempID = TempID(fields[0]),
            let start = format.timestamp(from: "\(fields[1]) \(fields[2])"),
            let expiry = format.timestamp(from: "\(fields[3]) \(fields[4])")
        else { return nil }
        var receivedAt = time
        if fields.count == 7 {
            guard let received = format.timestamp(from: "\(fields[5]) \(fields[6])") else { return nil }
            receivedAt = received
        }
        return ContactLogEntry(
            tempID: tempID, validity: ValidityWindow(start: start, expiry: expiry), receivedAt: receivedAt)
    }
}
