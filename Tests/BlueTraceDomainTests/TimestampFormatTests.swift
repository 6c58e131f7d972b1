import BlueTraceDomain
import Foundation
import Testing

@Suite("TimestampFormat")
struct TimestampFormatTests {
    static let utc = TimestampFormat.utc
    static let sydney = TimestampFormat(timeZone: TimeZone(identifier: "Australia/Sydney")!)
    static let london = TimestampFormat(timeZone: TimeZone(identifier: "Europe/London")!)
    static let newYork = TimestampFormat(timeZone: TimeZone(identifier: "America/New_York")!)

    // Reference values computed independently (Python's datetime with zoneinfo).
    static let knownUTC: [(String, Int64)] = [
        ("13/05/2020 17:45:06", 1_589_391_906),
        ("13/05/2020 18:00:05", 1_589_392_805),
        ("01/01/1970 00:00:00", 0),
        ("31/12/1969 23:59:59", -1),
        ("20/07/1969 20:17:40", -14_182_940),
        ("01/01/1969 00:00:00", -31_536_000),
        ("01/01/1900 00:00:00", -2_208_988_800),
        ("29/02/1600 23:59:59", -11_670_912_001),
        ("01/01/0001 00:00:00", -62_135_596_800),
        ("29/02/2000 12:00:00", 951_825_600),
        ("29/02/2020 00:00:00", 1_582_934_400),
        ("09/09/2001 01:46:40", 1_000_000_000),
        ("19/01/2038 03:14:08", 2_147_483_648),
        ("31/12/9999 23:59:59", 253_402_300_799),
    ]

    @Test(arguments: knownUTC)
    func parsesKnownUTCValues(text: String, seconds: Int64) {
        #expect(Self.utc.timestamp(from: text) == ts(seconds))
    }

    @Test(arguments: knownUTC)
    func formatsKnownUTCValues(text: String, seconds: Int64) {
        #expect(Self.utc.string(from: ts(seconds)) == text)
    }

    @Test(arguments: [
        ("Australia/Sydney", "13/05/2020 17:45:06", Int64(1_589_355_906)),  // AEST, +10
        ("Australia/Sydney", "13/01/2020 12:00:00", 1_578_877_200),  // AEDT, +11
        ("Europe/London", "13/05/2020 17:45:06", 1_589_388_306),  // BST, +1
        ("Europe/London", "13/01/2020 12:00:00", 1_578_916_800),  // GMT, +0
        ("America/New_York", "13/05/2020 17:45:06", 1_589_406_306),  // EDT, -4
        ("America/New_York", "13/01/2020 12:00:00", 1_578_934_800),  // EST, -5
    ])
    func convertsKnownZonedValuesBothWays(zone: String, text: String, seconds: Int64) throws {
        let format = TimestampFormat(timeZone: try #require(TimeZone(identifier: zone)))
        #expect(format.timestamp(from: text) == ts(seconds))
        #expect(format.string(from: ts(seconds)) == text)
    }

    @Test func utcIsTheUTCZone() {
        #expect(TimestampFormat.utc.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: 1_589_391_906)) == 0)
        #expect(TimestampFormat.length == 19)
    }

    @Test func roundTripsEveryInstantInUTCExactly() {
        var failures: [Int64] = []
        // From 1900 to 2100 in steps that are not a whole number of minutes, hours or days.
        for seconds in stride(from: Int64(-2_208_988_800), through: 4_102_444_800, by: 86_413 * 3 + 7) {
            let text = Self.utc.string(from: ts(seconds))
            if text.utf8.count != 19 || Self.utc.timestamp(from: text) != ts(seconds) { failures.append(seconds) }
        }
        #expect(failures.isEmpty)
    }

    /// In a zone with daylight saving, formatting then parsing gives back the instant, except in the hour that
    /// occurs twice when clocks go back: there the text is the same and parsing may pick the other occurrence.
    @Test(arguments: ["Australia/Sydney", "Europe/London", "America/New_York"])
    func roundTripsAcrossDaylightSaving(zone: String) throws {
        let format = TimestampFormat(timeZone: try #require(TimeZone(identifier: zone)))
        var failures: [Int64] = []
        var exact = 0
        var total = 0
        // 2019–2022 every hour and 7 s: crosses eight daylight-saving transitions at every minute of the hour.
        for seconds in stride(from: Int64(1_546_300_800), through: 1_672_531_200, by: 3_607) {
            total += 1
            let text = format.string(from: ts(seconds))
            guard let back = format.timestamp(from: text) else {
                failures.append(seconds)
                continue
            }
            if back == ts(seconds) {
                exact += 1
            } else if format.string(from: back) != text || abs(back - ts(seconds)) != 3600 {
                failures.append(seconds)
            }
        }
        #expect(failures.isEmpty)
        // Only the repeated hours (one a year, so at most one sample each) may differ.
        #expect(total - exact <= 4)
    }

    @Test(arguments: ["Australia/Sydney", "Europe/London"])
    func roundTripsHistoricDatesBefore1970(zone: String) throws {
        let format = TimestampFormat(timeZone: try #require(TimeZone(identifier: zone)))
        var failures: [Int64] = []
        for seconds in stride(from: Int64(-2_208_988_800), to: 0, by: 86_413 * 5 + 11) {
            let text = format.string(from: ts(seconds))
            guard let back = format.timestamp(from: text), format.string(from: back) == text else {
                failures.append(seconds)
                continue
            }
            if abs(back - ts(seconds)) > 7200 { failures.append(seconds) }
        }
        #expect(failures.isEmpty)
    }

    @Test func everySecondAroundSydneyClocksGoingForwardRoundTrips() {
        // 04/10/2020 02:00 AEST became 03:00 AEDT at 1601740800 (16:00 UTC on 3 October).
        let transition: Int64 = 1_601_740_800
        #expect(Self.sydney.string(from: ts(transition - 1)) == "04/10/2020 01:59:59")
        #expect(Self.sydney.string(from: ts(transition)) == "04/10/2020 03:00:00")
        var failures: [Int64] = []
        for seconds in (transition - 7_200)...(transition + 7_200)
        where Self.sydney.timestamp(from: Self.sydney.string(from: ts(seconds))) != ts(seconds) {
            failures.append(seconds)
        }
        #expect(failures.isEmpty)
    }

    @Test func repeatedLondonHourParsesToOneOfItsTwoInstants() throws {
        // 25/10/2020 01:30:00 happened at 00:30 UTC (BST) and again at 01:30 UTC (GMT).
        let first = Int64(1_603_585_800)
        let second = first + 3600
        #expect(Self.london.string(from: ts(first)) == "25/10/2020 01:30:00")
        #expect(Self.london.string(from: ts(second)) == "25/10/2020 01:30:00")
        let parsed = try #require(Self.london.timestamp(from: "25/10/2020 01:30:00"))
        #expect(parsed == ts(first) || parsed == ts(second))
    }

    @Test(arguments: [
        "29/02/2020 00:00:00", "29/02/2000 23:59:59", "29/02/2024 12:00:00", "29/02/1600 00:00:00",
        "31/01/2021 00:00:00", "30/04/2021 00:00:00", "31/12/2021 23:59:59", "01/01/2021 00:00:00",
    ])
    func acceptsRealDates(text: String) throws {
        let time = try #require(Self.utc.timestamp(from: text))
        #expect(Self.utc.string(from: time) == text)
    }

    @Test(arguments: [
        "",
        "13/05/2020 17:45:0",  // 18 characters
        "13/05/2020 17:45:066",  // 20 characters
        "13/05/2020  17:45:06",  // 20 characters, two spaces
        "13/05/2020 17:45:06\n",  // trailing newline
        " 13/05/2020 17:45:06",  // leading space
        "3/05/2020 17:45:06",  // one-digit day
        "13/5/2020 17:45:06 ",  // one-digit month, padded to 19
        "13/05/20 17:45:06",  // two-digit year
        "31/02/2020 00:00:00",
        "30/02/2020 00:00:00",
        "29/02/2021 00:00:00",
        "29/02/1900 00:00:00",  // divisible by 100, not by 400
        "31/04/2020 00:00:00",
        "32/01/2020 00:00:00",
        "00/01/2020 00:00:00",
        "13/00/2020 00:00:00",
        "13/13/2020 00:00:00",
        "13/05/2020 24:00:00",
        "13/05/2020 23:60:00",
        "13/05/2020 23:59:60",
        "ab/05/2020 17:45:06",
        "13/05/2020 17:4x:06",
        "13/05/20a0 17:45:06",
        "+3/05/2020 17:45:06",
        "-1/05/2020 17:45:06",
        "13-05-2020 17:45:06",
        "13/05/2020T17:45:06",
        "13/05/2020 17.45.06",
        "2020/05/13 17:45:06",
        "13/05/2020/17:45:06",
        "1305/2020 17:45:06 ",  // missing separator, padded to 19
        "13/05/2020 1745:06 ",  // missing separator, padded to 19
        "13/05/2020 17:45:0\u{FF16}",  // full-width six: 19 characters but not 19 bytes
        "\u{0661}3/05/2020 17:45:06",  // Arabic-Indic digit one
    ])
    func rejectsMalformedText(text: String) {
        #expect(Self.utc.timestamp(from: text) == nil)
        #expect(Self.sydney.timestamp(from: text) == nil)
    }

    @Test func parsesSubstringsAndSlicesThatDoNotStartAtZero() {
        let line = "xx13/05/2020 17:45:06yy"
        let substring = line.dropFirst(2).dropLast(2)
        #expect(Self.utc.timestamp(from: substring) == sampleIssueTime)
        let bytes = Array(line.utf8)
        #expect(Self.utc.timestamp(fromASCII: bytes[2..<21]) == sampleIssueTime)
        #expect(Self.utc.timestamp(fromASCII: bytes[1..<20]) == nil)
        #expect(Self.utc.timestamp(fromASCII: bytes[2..<22]) == nil)
    }

    @Test func formatsPaddedFieldsAlways19Characters() {
        #expect(Self.utc.string(from: ts(0)) == "01/01/1970 00:00:00")
        #expect(Self.utc.string(from: ts(-62_135_596_800 + 3_661)) == "01/01/0001 01:01:01")
        #expect(Self.newYork.string(from: ts(0)) == "31/12/1969 19:00:00")
    }
}
