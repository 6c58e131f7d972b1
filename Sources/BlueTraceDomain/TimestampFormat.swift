import Foundation

/// The assignment's `DD/MM/YYYY HH:MM:SS` time format (19 characters) in a given time zone.
///
/// Conversion is done arithmetically (no `DateFormatter`), so it is fast, thread-safe and strict: anything that is not
/// exactly two-digit day, month, hour, minute and second and a four-digit year naming a real date is rejected.
public struct TimestampFormat: Sendable {
    /// The number of characters in a formatted time.
    public static let length = 19

    /// The zone in which times are written and read (the local zone by default, as the assignment's files use).
    public let timeZone: TimeZone

    /// Creates a format for `timeZone`.
    public init(timeZone: TimeZone = .current) {
        self.timeZone = timeZone
    }

    /// A format in UTC, for tests and for machines that must agree regardless of their local zone.
    public static let utc = TimestampFormat(timeZone: TimeZone(identifier: "UTC")!)

    /// Formats `time` as `DD/MM/YYYY HH:MM:SS`, written in place (the server prints two per uploaded entry).
    public func string(from time: Timestamp) -> String {
        let local = time.secondsSinceEpoch + offset(at: time.secondsSinceEpoch)
        let days = local.floorDivided(by: 86_400)
        let secondOfDay = local - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        // Four digits for the years anyone uses; other years (before year 0, after 9999) as many as they need.
        let yearText = String(year)
        let yearWidth = max(4, yearText.utf8.count)
        return String(unsafeUninitializedCapacity: Self.length - 4 + yearWidth) { bytes in
            var index = 0
            func put(_ value: Int64, width: Int) {
                var value = value
                for position in stride(from: index + width - 1, through: index, by: -1) {
                    bytes[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                index += width
            }
            func put(_ text: some Sequence<UInt8>) {
                for byte in text {
                    bytes[index] = byte
                    index += 1
                }
            }
            put(day, width: 2)
            put("/".utf8)
            put(month, width: 2)
            put("/".utf8)
            put(Array(repeating: UInt8(ascii: "0"), count: yearWidth - yearText.utf8.count))
            put(yearText.utf8)
            put(" ".utf8)
            put(secondOfDay / 3600, width: 2)
            put(":".utf8)
            put((secondOfDay % 3600) / 60, width: 2)
            put(":".utf8)
            put(secondOfDay % 60, width: 2)
            return index
        }
    }

    /// Parses exactly 19 characters of `DD/MM/YYYY HH:MM:SS`; `nil` for anything else.
    public func timestamp<S: StringProtocol>(from text: S) -> Timestamp? {
        let utf8 = Array(text.utf8)
        return timestamp(fromASCII: utf8[...])
    }

    /// Parses exactly 19 ASCII bytes of `DD/MM/YYYY HH:MM:SS`; `nil` for anything else.
    public func timestamp(fromASCII bytes: ArraySlice<UInt8>) -> Timestamp? {
        guard bytes.count == Self.length else { return nil }
        let b = bytes.startIndex
        func digits(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in (b + from)..<(b + from + count) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[b + 2] == UInt8(ascii: "/"), bytes[b + 5] == UInt8(ascii: "/"), bytes[b + 10] == UInt8(ascii: " "),
            bytes[b + 13] == UInt8(ascii: ":"), bytes[b + 16] == UInt8(ascii: ":"),
            let day = digits(0, 2), let month = digits(3, 2), let year = digits(6, 4),
            let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
            (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        let local = Self.days(fromYear: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        // Local time → UTC: take the zone's offset at the guessed instant, then correct once for a DST boundary.
        let firstGuess = local - offset(at: local)
        let utc = local - offset(at: firstGuess)
        return Timestamp(secondsSinceEpoch: utc)
    }

    private func offset(at seconds: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian calendar).
    private static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
