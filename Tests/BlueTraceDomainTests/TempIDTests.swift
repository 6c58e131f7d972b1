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

@Suite("TempIDRegistry")
struct TempIDRegistryTests {
    /// Two constant words; each makes `randomDecimal` draw the same 20 digits for as long as it lasts.
    static let wordA: UInt64 = 0x5555_5555_5555_5555
    static let wordB: UInt64 = 0xB6DB_6DB6_DB6D_B6DB
    /// Each constant lasts for three draws of 20 digits (one word for each half of 10 digits).
    static func riggedGenerator() -> ScriptedGenerator {
        ScriptedGenerator(runsOf: [wordA, wordB], count: 3 * 2)
    }

    @Test func riggedGeneratorReallyRepeats() {
        var generator = Self.riggedGenerator()
        let draws = (0..<7).map { _ in TempID.randomDecimal(using: &generator) }
        #expect(draws[0] == draws[1])
        #expect(draws[1] == draws[2])
        #expect(draws[3] != draws[0])
        #expect(draws[3] == draws[4])
        #expect(draws[4] == draws[5])
        #expect(draws[6] != draws[3] && draws[6] != draws[0])
        #expect(draws.allSatisfy { $0.isDecimal })
    }

    @Test func issuingNeverRepeatsATempIDEvenWhenTheGeneratorDoes() throws {
        var reference = Self.riggedGenerator()
        let firstDraw = TempID.randomDecimal(using: &reference)
        for _ in 0..<2 { _ = TempID.randomDecimal(using: &reference) }
        let secondDistinctDraw = TempID.randomDecimal(using: &reference)

        var generator = Self.riggedGenerator()
        var registry = TempIDRegistry()
        let policy = TempIDPolicy()
        let users = ["+61410666666", "+61410777777", "+61410888888", "+61410999999"]
        let grants = users.enumerated().map { index, user in
            registry.issueDecimal(to: user, at: sampleIssueTime + Int64(index), policy: policy, using: &generator)
        }
        #expect(grants[0].tempID == firstDraw)
        #expect(grants[1].tempID == secondDistinctDraw)
        #expect(Set(grants.map(\.tempID)).count == users.count)
        #expect(registry.count == users.count)
        for (index, grant) in grants.enumerated() {
            #expect(grant.user == users[index])
            #expect(grant.tempID.isDecimal)
            #expect(grant.validity == policy.validity(issuedAt: sampleIssueTime + Int64(index)))
            #expect(registry.grant(for: grant.tempID) == grant)
        }
    }

    @Test func issuingAvoidsTempIDsRecordedFromAFile() {
        var reference = Self.riggedGenerator()
        let wouldBeDrawn = TempID.randomDecimal(using: &reference)
        let loaded = TempIDGrant(
            user: "+61410999999", tempID: wouldBeDrawn,
            validity: TempIDPolicy().validity(issuedAt: sampleIssueTime))

        var registry = TempIDRegistry()
        let recorded = registry.record(loaded)
        #expect(recorded)
        var generator = Self.riggedGenerator()
        let issued = registry.issueDecimal(
            to: "+61410888888", at: sampleIssueTime + 60, policy: TempIDPolicy(), using: &generator)
        #expect(issued.tempID != wouldBeDrawn)
        #expect(registry.grant(for: wouldBeDrawn) == loaded)
        #expect(registry.count == 2)
    }

    @Test func recordKeepsTheFirstMapping() {
        let id = tempID("12345678901234567890")
        let first = TempIDGrant(
            user: "+61410999999", tempID: id, validity: ValidityWindow(start: ts(0), expiry: ts(899)))
        let second = TempIDGrant(
            user: "+61410888888", tempID: id, validity: ValidityWindow(start: ts(900), expiry: ts(1_799)))
        var registry = TempIDRegistry()
        let results = [registry.record(first), registry.record(second), registry.record(first)]
        #expect(results == [true, false, false])
        #expect(registry.grant(for: id) == first)
        #expect(registry.count == 1)
    }

    @Test func unknownTempIDsHaveNoGrant() {
        var registry = TempIDRegistry()
        #expect(registry.count == 0)
        #expect(registry.grant(for: tempID("12345678901234567890")) == nil)
        registry.record(
            TempIDGrant(
                user: "u", tempID: tempID("12345678901234567890"),
                validity: ValidityWindow(start: ts(0), expiry: ts(1))))
        #expect(registry.grant(for: tempID("12345678901234567891")) == nil)
    }
}
