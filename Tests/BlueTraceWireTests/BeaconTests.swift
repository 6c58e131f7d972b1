import BlueTraceDomain
import BlueTraceWire
import Foundation
import Testing

private let utc = TimestampFormat.utc
private let idText = "12345678901234567891"
private let startText = "13/05/2020 17:54:06"
private let expiryText = "13/05/2020 18:09:05"
private let fixedText = idText + startText + expiryText + "1"

/// The assignment's sample beacon: 13/05/2020 17:54:06 to 18:09:05 UTC.
private let sample = Beacon(
    tempID: TempID(idText)!,
    validity: ValidityWindow(
        start: Timestamp(secondsSinceEpoch: 1_589_392_446), expiry: Timestamp(secondsSinceEpoch: 1_589_393_345)))

private func parse(_ text: String) throws(BeaconParseError) -> Beacon {
    try Beacon.parse(Array(text.utf8), format: utc)
}

@Suite("Beacon encoding")
struct BeaconEncodingTests {
    @Test("The sample window is what the format reads from the sample times")
    func sampleTimes() {
        #expect(utc.timestamp(from: startText) == sample.validity.start)
        #expect(utc.timestamp(from: expiryText) == sample.validity.expiry)
    }

    @Test("An assignment beacon is exactly 59 ASCII bytes: TempID, start, expiry and 1")
    func assignmentDatagram() throws {
        let datagram = sample.datagram(format: utc)
        #expect(Beacon.assignmentSize == 59)
        #expect(datagram.count == 59)
        #expect(datagram.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
        #expect(datagram == Array(fixedText.utf8))
        #expect(
            String(decoding: datagram, as: UTF8.self) == "1234567890123456789113/05/2020 17:54:0613/05/2020 18:09:051")
    }

    @Test("The assignment datagram reads back as the same beacon")
    func assignmentRoundTrip() throws {
        let datagram = sample.datagram(format: utc)
        #expect(try Beacon.parse(datagram, format: utc) == sample)
        #expect(try Beacon.parse(datagram[...], format: utc) == sample)
    }

    static let windows: [(start: Int64, expiry: Int64)] = [
        (0, 899),
        (951_782_400, 951_868_799),  // 29/02/2000, a leap day of a century leap year
        (1_709_164_800, 1_709_165_699),  // 29/02/2024
        (1_704_067_199, 1_704_067_200),  // 31/12/2023 23:59:59 → 01/01/2024 00:00:00
        (4_102_444_799, 4_102_444_799),  // 31/12/2099 23:59:59, start = expiry
    ]

    @Test("Beacons at calendar edges round trip through the assignment datagram", arguments: windows)
    func calendarEdgesRoundTrip(start: Int64, expiry: Int64) throws {
        let beacon = Beacon(
            tempID: TempID("00000000000000000000")!,
            validity: ValidityWindow(
                start: Timestamp(secondsSinceEpoch: start), expiry: Timestamp(secondsSinceEpoch: expiry)))
        let datagram = beacon.datagram(format: utc)
        #expect(datagram.count == Beacon.assignmentSize)
        #expect(try Beacon.parse(datagram, format: utc) == beacon)
    }

    @Test("The exact layout is still read when the sender added a line ending", arguments: ["\n", "\r\n", "\n\n"])
    func exactLayoutWithLineEnding(ending: String) throws {
        let datagram = sample.datagram(format: utc) + Array(ending.utf8)
        #expect(try Beacon.parse(datagram, format: utc) == sample)
    }

    @Test("The datagram is written in the format's time zone")
    func otherTimeZone() throws {
        let singapore = TimestampFormat(timeZone: try #require(TimeZone(identifier: "Asia/Singapore")))
        let datagram = sample.datagram(format: singapore)
        #expect(
            String(decoding: datagram, as: UTF8.self)
                == idText + "14/05/2020 01:54:06" + "14/05/2020 02:09:05" + "1")
        #expect(try Beacon.parse(datagram, format: singapore) == sample)
        // Read in another zone, the same bytes name other instants.
        #expect(try Beacon.parse(datagram, format: utc).validity.start == sample.validity.start + 8 * 3600)
    }

    @Test(
        "Only 20-digit TempIDs go out as the assignment's version-1 datagram",
        arguments: ["abc", "1234567890123456789", "123456789012345678901", "1234567890123456789A", "sealed+token=="])
    func nonDecimalTempIDHasNoDatagram(text: String) throws {
        let beacon = Beacon(tempID: try #require(TempID(text)), validity: sample.validity)
        #expect(beacon.version != Beacon.assignmentVersion)
        #expect(beacon.datagram(format: utc).last != UInt8(ascii: "0") + Beacon.assignmentVersion)
    }

    @Test("A 20-digit TempID goes out as version 1, any other as version 2 with the same fixed layout")
    func versionFollowsTheTempID() throws {
        #expect(sample.version == Beacon.assignmentVersion)
        let sealed = String(repeating: "AbC+/9", count: 13) + "x="  // 80 base64 characters
        let beacon = Beacon(tempID: try #require(TempID(sealed)), validity: sample.validity)
        #expect(beacon.version == Beacon.extendedVersion)
        let datagram = beacon.datagram(format: utc)
        #expect(String(decoding: datagram, as: UTF8.self) == sealed + startText + expiryText + "2")
        #expect(datagram.count == 80 + 39)
        #expect(try Beacon.parse(datagram, format: utc) == beacon)
        #expect(try Beacon.parse(datagram + [0x0A], format: utc) == beacon)
    }

    @Test("Version 2 also carries 20-digit TempIDs, in the layout and as text")
    func versionTwoWithADecimalTempID() throws {
        #expect(try Beacon.parse(Array((idText + startText + expiryText + "2").utf8), format: utc) == sample)
        #expect(try Beacon.parse(Array("\(idText),\(startText),\(expiryText),2".utf8), format: utc) == sample)
    }
}

@Suite("Beacon parsing")
struct BeaconParsingTests {
    static let textVariants: [String] = {
        let bodies = [
            "\(idText),\(startText),\(expiryText),1",
            "\(idText), \(startText), \(expiryText), 1",
            "\(idText) \(startText) \(expiryText) 1",
            "\(idText)\t\(startText)\t\(expiryText)\t1",
            "\(idText) ,  \(startText) ,\(expiryText),   1",
        ]
        return bodies.flatMap { body in ["", "\n", "\r", "\r\n", ";", ".", ";\r\n", " \n", "\n\n"].map { body + $0 } }
    }()

    @Test("Text variants of the four fields give the same beacon", arguments: textVariants)
    func textVariant(text: String) throws {
        #expect(try parse(text) == sample)
    }

    @Test("A text beacon may carry a TempID of another scheme")
    func textWithOtherTempID() throws {
        let beacon = try parse("sealed+token/==,\(startText),\(expiryText),1\n")
        #expect(beacon.tempID == TempID("sealed+token/=="))
        #expect(beacon.validity == sample.validity)
        #expect(beacon.version == Beacon.extendedVersion, "it is sent on as version 2")
    }

    static let malformedDatagrams: [(name: String, bytes: [UInt8], error: BeaconParseError)] = [
        ("empty", [], .wrongLayout(0)),
        ("58 bytes: the version cut off", Array(fixedText.utf8.dropLast()), .wrongLayout(58)),
        ("60 bytes: an extra digit", Array((fixedText + "1").utf8), .wrongLayout(60)),
        ("the layout without its TempID", Array((startText + expiryText + "1").utf8), .wrongLayout(39)),
        ("59 NUL bytes", [UInt8](repeating: 0, count: 59), .notText(59)),
        (
            "a NUL byte inside the layout", Array(fixedText.utf8.prefix(30)) + [0] + Array(fixedText.utf8.suffix(28)),
            .notText(59)
        ),
        ("non-ASCII bytes", [0xC3, 0xA9, 0xFF, 0x80, 0x31], .notText(5)),
        ("a non-ASCII letter in a text beacon", Array("\(idText),\(startText),\(expiryText),1é".utf8), .notText(64)),
        ("random bytes", [0x5A, 0x00, 0x9E, 0x13, 0xF0, 0x7F, 0x1B, 0x42, 0xAA, 0x01], .notText(10)),
        ("version 3 in the layout", Array((idText + startText + expiryText + "3").utf8), .wrongLayout(59)),
        ("version 3 as text", Array("\(idText),\(startText),\(expiryText),3".utf8), .unsupportedVersion("3")),
        ("version 10 as text", Array("\(idText) \(startText) \(expiryText) 10".utf8), .unsupportedVersion("10")),
        ("31/02/2020 in the layout", Array((idText + "31/02/2020 17:54:06" + expiryText + "1").utf8), .wrongLayout(59)),
        ("31/02/2020 as text", Array("\(idText),31/02/2020 17:54:06,\(expiryText),1".utf8), .invalidTime),
        ("29/02/2021 as text", Array("\(idText),\(startText),29/02/2021 00:00:00,1".utf8), .invalidTime),
        ("24:00:00 as text", Array("\(idText),\(startText),13/05/2020 24:00:00,1".utf8), .invalidTime),
        ("a date in ISO order", Array("\(idText),2020/05/13 17:54:06,\(expiryText),1".utf8), .invalidTime),
        (
            "a 19-digit TempID and a comma", Array(("1234567890123456789," + startText + expiryText + "1").utf8),
            .wrongLayout(59)
        ),
        (
            "a 19-digit TempID and a space", Array(("1234567890123456789 " + startText + expiryText + "1").utf8),
            .wrongLayout(59)
        ),
        (
            "a 19-digit TempID shifting the layout",
            Array(("1234567890123456789" + startText + expiryText + "11").utf8),
            .wrongLayout(59)
        ),
        (
            "a 19-digit TempID without padding", Array(("1234567890123456789" + startText + expiryText + "1").utf8),
            .wrongLayout(58)
        ),
        (
            "a TempID with a letter in the layout", Array(("1234567890123456789A" + startText + expiryText + "1").utf8),
            .wrongLayout(59)
        ),
        ("three fields", Array("\(idText),\(startText),\(expiryText)".utf8), .wrongLayout(60)),
        ("five fields", Array("\(idText),\(startText),\(expiryText),1,1".utf8), .wrongLayout(64)),
        ("only separators", Array(" , ,\r\n".utf8), .wrongLayout(6)),
        (
            "a 300-character TempID", Array("\(String(repeating: "a", count: 300)),\(startText),\(expiryText),1".utf8),
            .invalidTempID
        ),
        ("1025 spaces", [UInt8](repeating: 0x20, count: 1025), .tooLong(1025)),
        ("2000 bytes", [UInt8](repeating: 0x31, count: 2000), .tooLong(2000)),
        ("2000 random bytes", (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }, .tooLong(2000)),
    ]

    @Test("Anything else is rejected, saying why", arguments: malformedDatagrams)
    func rejected(name: String, bytes: [UInt8], error: BeaconParseError) {
        #expect(throws: error, "\(name)") {
            try Beacon.parse(bytes, format: utc)
        }
    }

    @Test("1024 bytes is not too long to be looked at")
    func longestTextConsidered() {
        #expect(throws: BeaconParseError.wrongLayout(1024)) {
            try Beacon.parse([UInt8](repeating: 0x20, count: 1024), format: utc)
        }
    }

    @Test("Parse errors describe themselves")
    func errorDescriptions() {
        #expect(BeaconParseError.tooLong(2000).description == "2000 bytes is too long for a beacon")
        #expect(BeaconParseError.notText(5).description == "5 bytes that are not a text beacon")
        #expect(BeaconParseError.wrongLayout(3).description.hasPrefix("3 bytes: expected 59 bytes"))
        #expect(BeaconParseError.invalidTempID.description == "the TempID field is not a TempID")
        #expect(BeaconParseError.invalidTime.description == "a time field is not DD/MM/YYYY HH:MM:SS")
        #expect(BeaconParseError.unsupportedVersion("2").description == #"unsupported beacon version "2""#)
    }
}
