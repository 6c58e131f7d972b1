/// A line of a text file that could not be used, with the reason; reported to the operator and skipped.
public struct LineProblem: Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    /// Why the line was skipped.
    public var reason: String

    /// Creates a problem report.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

/// Splits file text into numbered lines, tolerating CRLF and LF endings and a missing final newline.
public func numberedLines(of text: String) -> [(number: Int, text: Substring)] {
    var result: [(Int, Substring)] = []
    var number = 0
    // "\r\n" is one Character in Swift, so both endings are named.
    for var line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        number += 1
        if line.hasSuffix("\r") { line = line.dropLast() }
        result.append((number, line))
    }
    // A final newline leaves one empty piece after it that is not a line.
    if let last = result.last, last.1.isEmpty, text.hasSuffix("\n") || text.hasSuffix("\r\n") { result.removeLast() }
    return result
}

/// The accounts in credentials.txt: one `username password` per line, separated by one space, case-sensitive.
public struct CredentialsFile: Sendable {
    /// Password by username, in file order of first appearance.
    public private(set) var passwords: [String: String] = [:]
    /// Usernames in file order.
    public private(set) var usernames: [String] = []
    /// Lines that were skipped, with the reason.
    public private(set) var problems: [LineProblem] = []

    /// Parses the file's text. Blank lines are ignored; malformed and duplicate lines are reported and skipped.
    public init(parsing text: String) {
        for (number, line) in numberedLines(of: text) {
            if line.allSatisfy(\.isWhitespace) { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty,
                !line.contains("\t")
            else {
                problems.append(
                    LineProblem(line: number, reason: "expected `username password` separated by one space"))
                continue
            }
            let user = String(fields[0])
            guard passwords[user] == nil else {
                problems.append(LineProblem(line: number, reason: "duplicate username \(user); the first line wins"))
                continue
            }
            passwords[user] = String(fields[1])
            usernames.append(user)
        }
    }
}

/// The tempIDs.txt format: `username TempID DD/MM/YYYY HH:MM:SS DD/MM/YYYY HH:MM:SS` per line.
public struct TempIDFile: Sendable {
    /// The grants read, in file order.
    public private(set) var grants: [TempIDGrant] = []
    /// Lines that were skipped, with the reason.
    public private(set) var problems: [LineProblem] = []

    /// Parses the file's text with times in `format`. Blank lines are ignored; malformed lines are reported.
    public init(parsing text: String, format: TimestampFormat) {
        for (number, line) in numberedLines(of: text) {
            if line.allSatisfy(\.isWhitespace) { continue }
            switch Self.parseLine(line, format: format) {
            case .success(let grant): grants.append(grant)
            case .failure(let problem): problems.append(LineProblem(line: number, reason: problem.reason))
            }
        }
    }

    /// The line that records `grant`, without a line ending.
    public static func line(for grant: TempIDGrant, format: TimestampFormat) -> String {
        "\(grant.user) \(grant.tempID) \(format.string(from: grant.validity.start)) "
            + format.string(from: grant.validity.expiry)
    }

    private struct Problem: Error { var reason: String }

    private static func parseLine(_ line: Substring, format: TimestampFormat) -> Result<TempIDGrant, Problem> {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 6 else {
            return .failure(Problem(reason: "expected `username TempID start-date start-time expiry-date expiry-time`"))
        }
        guard let tempID = TempID(fields[1]) else { return .failure(Problem(reason: "invalid TempID")) }
        guard let start = format.timestamp(from: "\(fields[2]) \(fields[3])"),
            let expiry = format.timestamp(from: "\(fields[4]) \(fields[5])")
        else { return .failure(Problem(reason: "times must be DD/MM/YYYY HH:MM:SS")) }
        guard start <= expiry else { return .failure(Problem(reason: "expiry is before start")) }
        return .success(
            TempIDGrant(user: String(fields[0]), tempID: tempID, validity: ValidityWindow(start: start, expiry: expiry))
        )
    }
}
