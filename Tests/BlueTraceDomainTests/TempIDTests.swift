import BlueTraceDomain
import Foundation
import Testing

@Suite("TempID")
struct TempIDTests {
    @Test func randomDecimalIsTwentyDistinctDigits() {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<TempID>()
        for _ in 0..<2_000 {
            let id = TempID.randomDecimal(using: &generator)
            #expect(id.rawValue.utf8.count == 20)
            #expect(id.rawValue.allSatisfy { ("0"..."9").contains($0) })
            #expect(id.isDecimal)
            seen.insert(id)
        }
        #expect(seen.count == 2_000)
    }

    @Test func randomDecimalUsesEveryDigitInEveryPosition() {
        var generator = SplitMix64(seed: 3331)
        var digitsByPosition = Array(repeating: Set<Character>(), count: 20)
        for _ in 0..<500 {
            for (position, digit) in TempID.randomDecimal(using: &generator).rawValue.enumerated() {
                digitsByPosition[position].insert(digit)
            }
        }
        #expect(digitsByPosition.allSatisfy { $0 == Set("0123456789") })
    }

    @Test func randomDecimalIsDeterminedByTheGenerator() {
        var first = SplitMix64(seed: 7)
        var second = SplitMix64(seed: 7)
        #expect(TempID.randomDecimal(using: &first) == TempID.randomDecimal(using: &second))
    }

    @Test(arguments: [
        "1",
        "12345678901234567890",
        "!",
        "~",
        "abc-DEF_123.xyz",
        "base64+/=",
        "+61410999999",
        String(repeating: "x", count: 256),
    ])
    func acceptsPrintableASCIIWithoutSpaces(text: String) throws {
        let id = try #require(TempID(text))
        #expect(id.rawValue == text)
        #expect(id.description == text)
    }

    @Test(arguments: [
        "",
        " ",
        "1234567890 1234567890",
        " 12345678901234567890",
        "12345678901234567890 ",
        "1234,5678",
        "1234;5678",
        "tab\there",
        "new\nline",
        "cr\r",
        "\u{7F}",
        "\u{1F}",
        "caf\u{E9}",
        "\u{FF11}\u{FF12}",  // full-width digits
        String(repeating: "x", count: 257),
    ])
    func rejectsAnythingElse(text: String) {
        #expect(TempID(text) == nil)
    }

    @Test func acceptsSubstrings() {
        let line = "+61410999999 12345678901234567890 13/05/2020"
        let field = line.split(separator: " ")[1]
        #expect(TempID(field)?.rawValue == "12345678901234567890")
    }

    @Test(arguments: [
        ("12345678901234567890", true),
        ("00000000000000000000", true),
        ("99999999999999999999", true),
        ("1234567890123456789", false),  // 19 digits
        ("123456789012345678901", false),  // 21 digits
        ("1234567890123456789a", false),
        ("-1234567890123456789", false),
        ("+1234567890123456789", false),
        ("abcdefghijabcdefghij", false),
    ])
    func isDecimalMeansExactlyTwentyDigits(text: String, decimal: Bool) throws {
        #expect(try #require(TempID(text)).isDecimal == decimal)
    }

    @Test func ordersByText() {
        #expect(tempID("10") < tempID("9"))
        #expect(tempID("a") < tempID("b"))
        #expect(!(tempID("b") < tempID("b")))
    }

    @Test func codesAsAString() throws {
        let id = tempID("12345678901234567890")
        let data = try JSONEncoder().encode(id)
        #expect(String(decoding: data, as: UTF8.self) == #""12345678901234567890""#)
        #expect(try JSONDecoder().decode(TempID.self, from: data) == id)
    }

    @Test(arguments: [#""has space""#, #""""#, #""a,b""#, "12"])
    func decodingRejectsInvalidTempIDs(json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TempID.self, from: Data(json.utf8))
        }
    }
}

@Suite("TempIDPolicy")
struct TempIDPolicyTests {
    @Test func standardLifetimeMatchesTheAssignmentSample() {
        let policy = TempIDPolicy()
        #expect(policy.lifetime == 900)
        #expect(TempIDPolicy.standardLifetime == 900)
        let window = policy.validity(issuedAt: sampleIssueTime)
        #expect(TimestampFormat.utc.string(from: window.start) == "13/05/2020 17:45:06")
        #expect(TimestampFormat.utc.string(from: window.expiry) == "13/05/2020 18:00:05")
    }

    @Test(arguments: [Int64(1), 2, 60, 900, 86_400])
    func windowCoversExactlyLifetimeSeconds(lifetime: Int64) {
        let window = TempIDPolicy(lifetime: lifetime).validity(issuedAt: sampleIssueTime)
        #expect(window.start == sampleIssueTime)
        #expect(window.expiry - window.start == lifetime - 1)
        #expect(window.contains(sampleIssueTime))
        #expect(window.contains(sampleIssueTime + (lifetime - 1)))
        #expect(!window.contains(sampleIssueTime + lifetime))
        #expect(!window.contains(sampleIssueTime - 1))
    }
}

/// A 20-digit TempID and its halves are one and the same, both ways.
@Suite("TempID halves")
struct TempIDHalvesTests {
    @Test("Halves make the TempID they were read from, leading zeros kept; a half of 11 digits makes none")
    func halvesRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for text in ["00000000000000000000", "99999999999999999999", "00000000010000000001"] {
            let tempID = try #require(TempID(text))
            #expect(TempID(decimalHalves: try #require(tempID.decimalHalves)) == tempID)
            #expect(TempID(decimalHalves: try #require(tempID.decimalHalves))?.rawValue == text)
        }
        for _ in 0..<1_000 {
            let tempID = TempID.randomDecimal(using: &generator)
            #expect(TempID(decimalHalves: try #require(tempID.decimalHalves)) == tempID)
        }
        #expect(TempID(decimalHalves: (10_000_000_000, 0)) == nil)
        #expect(TempID(decimalHalves: (0, 10_000_000_000)) == nil)
        #expect(TempID.decimalHalves(of: "1234567890123456789") == nil)
        #expect(TempID.decimalHalves(of: "1234567890123456789x") == nil)
        #expect(TempID.decimalHalves(of: "123456789012345678901") == nil)
    }

    @Test("Kept as halves or as text, TempIDs compare, sort and hash exactly as their texts do")
    func halvesAgreeWithText() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "00000000000000000000", "00000000000000000001", "09999999999999999999", "10000000000000000000",
            "99999999999999999999", "1234567890123456789", "12345678901234567890", "123456789012345678901",
            "1234567890123456789a", "9", "A", "sealed+AAAA==", "~", "!",
        ]
        for _ in 0..<50 { texts.append(TempID.randomDecimal(using: &generator).rawValue) }
        let tempIDs = try texts.map { try #require(TempID($0)) }
        #expect(tempIDs.map(\.rawValue) == texts)
        #expect(tempIDs.map(\.utf8Count) == texts.map(\.utf8.count))
        #expect(tempIDs.sorted().map(\.rawValue) == texts.sorted())
        #expect(Set(tempIDs).count == Set(texts).count)
        for (left, leftText) in zip(tempIDs, texts) {
            for (right, rightText) in zip(tempIDs, texts) {
                #expect((left == right) == (leftText == rightText))
                #expect((left < right) == (leftText < rightText))
                if left == right { #expect(left.hashValue == right.hashValue) }
            }
        }
    }

    @Test("A TempID read from bytes is made only from exactly 20 digits, the same as made from its text")
    func fromBytes() {
        for (text, decimal) in [
            ("12345678901234567890", true), ("00000000000000000000", true), ("1234567890123456789", false),
            ("123456789012345678901", false), ("1234567890123456789a", false), ("/234567890123456789a", false),
        ] {
            let made = Array(text.utf8).withUnsafeBytes { TempID(decimalUTF8: $0) }
            #expect((made != nil) == decimal, "\(text)")
            if decimal { #expect(made == TempID(text) && made?.rawValue == text) }
        }
    }
}
