import BlueTraceDomain
import Foundation
import Testing

@Suite("numberedLines")
struct NumberedLinesTests {
    @Test(arguments: [
        ("", [""]),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\r\n", ["a"]),
        ("a\r\nb", ["a", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\nb\r\nc", ["a", "b", "c"]),
        ("a\n\nb\n", ["a", "", "b"]),
        ("a\r\n\r\nb", ["a", "", "b"]),
        ("\n", [""]),
        ("\r\n\r\n", ["", ""]),
        ("a b\r", ["a b"]),
    ])
    func splitsLinesWithEitherEnding(text: String, lines: [String]) {
        let numbered = numberedLines(of: text)
        #expect(numbered.map { String($0.text) } == lines)
        #expect(numbered.map(\.number) == Array(1...lines.count))
    }
}

@Suite("CredentialsFile")
struct CredentialsFileTests {
    static let sample =
        "+61410666666 kara1234\r\n+61410777777 datha457\r\n+61410888888 comp3331\r\n+61410999999 bada4568"
    static let sampleUsers = ["+61410666666", "+61410777777", "+61410888888", "+61410999999"]
    static let samplePasswords = ["kara1234", "datha457", "comp3331", "bada4568"]

    @Test(arguments: [
        sample,
        sample + "\r\n",
        sample.replacingOccurrences(of: "\r\n", with: "\n"),
        sample.replacingOccurrences(of: "\r\n", with: "\n") + "\n",
    ])
    func parsesTheSampleWhateverTheLineEndings(text: String) {
        let file = CredentialsFile(parsing: text)
        #expect(file.problems.isEmpty)
        #expect(file.usernames == Self.sampleUsers)
        #expect(file.passwords.count == 4)
        for (user, password) in zip(Self.sampleUsers, Self.samplePasswords) {
            #expect(file.passwords[user] == password)
        }
    }

    @Test(arguments: [
        "user\tpass",
        "user  pass",
        "user",
        "user pass extra",
        " user pass",
        "user pass ",
        "user pass\t",
        "user \tpass",
    ])
    func reportsMalformedLinesWithTheirNumber(bad: String) throws {
        let text = "alice a1\r\n\r\nbob b2\r\n\(bad)\r\ncarol c3"
        let file = CredentialsFile(parsing: text)
        #expect(file.usernames == ["alice", "bob", "carol"])
        let problem = try #require(file.problems.first)
        #expect(file.problems.count == 1)
        #expect(problem.line == 4)
        #expect(problem.description.hasPrefix("line 4: "))
        #expect(file.passwords["user"] == nil)
    }

    @Test func blankLinesAreIgnoredButCounted() {
        let text = "\r\n\r\nalice a1\r\n   \r\n\t\r\n\r\nbob b2\r\nbroken\r\n\r\n"
        let file = CredentialsFile(parsing: text)
        #expect(file.usernames == ["alice", "bob"])
        #expect(file.problems.map(\.line) == [8])
    }

    @Test func emptyFileHasNoUsers() {
        let file = CredentialsFile(parsing: "")
        #expect(file.usernames.isEmpty)
        #expect(file.passwords.isEmpty)
        #expect(file.problems.isEmpty)
    }

    @Test func duplicateUsernameIsReportedAndTheFirstWins() throws {
        let file = CredentialsFile(parsing: "alice first\nbob b2\nalice second\n")
        #expect(file.usernames == ["alice", "bob"])
        #expect(file.passwords["alice"] == "first")
        let problem = try #require(file.problems.first)
        #expect(file.problems.count == 1)
        #expect(problem.line == 3)
        #expect(problem.reason.contains("duplicate"))
    }

    @Test func usernamesAndPasswordsAreCaseSensitiveAndKeptVerbatim() {
        let file = CredentialsFile(parsing: "Alice Pa$$w0rd!\nalice pa,ss;word")
        #expect(file.usernames == ["Alice", "alice"])
        #expect(file.passwords["Alice"] == "Pa$$w0rd!")
        #expect(file.passwords["alice"] == "pa,ss;word")
        #expect(file.passwords["ALICE"] == nil)
    }
}

@Suite("TempIDFile")
struct TempIDFileTests {
    static let sampleLines = [
        "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05",
        "+61410888888 12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05",
        "+61410777777 12345678901234567892 14/05/2020 17:45:06 14/05/2020 18:00:05",
    ]
    static let sample = sampleLines.joined(separator: "\r\n")
    static let expected: [TempIDGrant] = [
        ("+61410999999", "12345678901234567890", Int64(1_589_391_906)),
        ("+61410888888", "12345678901234567891", 1_589_392_446),
        ("+61410777777", "12345678901234567892", 1_589_478_306),
    ].map { user, id, start in
        TempIDGrant(user: user, tempID: tempID(id), validity: TempIDPolicy().validity(issuedAt: ts(start)))
    }

    @Test func parsesTheSample() {
        let file = TempIDFile(parsing: Self.sample, format: .utc)
        #expect(file.problems.isEmpty)
        #expect(file.grants == Self.expected)
        #expect(file.grants.map(\.validity.expiry) == [ts(1_589_392_805), ts(1_589_393_345), ts(1_589_479_205)])
    }

    @Test func linesRoundTrip() {
        let lines = Self.expected.map { TempIDFile.line(for: $0, format: .utc) }
        #expect(lines == Self.sampleLines)
        let reparsed = TempIDFile(parsing: lines.joined(separator: "\n") + "\n", format: .utc)
        #expect(reparsed.grants == Self.expected)
        #expect(reparsed.problems.isEmpty)
    }

    @Test func readsTimesInTheFormatsZone() throws {
        let sydney = TimestampFormat(timeZone: try #require(TimeZone(identifier: "Australia/Sydney")))
        let file = TempIDFile(parsing: Self.sampleLines[0], format: sydney)
        #expect(file.grants.first?.validity.start == ts(1_589_355_906))
        let line = try TempIDFile.line(for: #require(file.grants.first), format: sydney)
        #expect(line == Self.sampleLines[0])
    }

    @Test(arguments: [
        ("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020", "expected"),
        ("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05 x", "expected"),
        ("+61410999999", "expected"),
        ("+61410999999 1234\u{E9}5678 13/05/2020 17:45:06 13/05/2020 18:00:05", "TempID"),
        ("+61410999999 12345678901234567890 32/05/2020 17:45:06 13/05/2020 18:00:05", "DD/MM/YYYY"),
        ("+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:5", "DD/MM/YYYY"),
        ("+61410999999 12345678901234567890 13/05/2020 18:00:06 13/05/2020 18:00:05", "before"),
    ])
    func reportsMalformedLinesWithTheirNumber(bad: String, reasonMentions: String) throws {
        let text = Self.sampleLines[0] + "\r\n\r\n" + bad + "\r\n" + Self.sampleLines[1]
        let file = TempIDFile(parsing: text, format: .utc)
        #expect(file.grants == Array(Self.expected.prefix(2)))
        let problem = try #require(file.problems.first)
        #expect(file.problems.count == 1)
        #expect(problem.line == 3)
        #expect(problem.reason.contains(reasonMentions))
    }

    @Test func oneSecondValidityIsAccepted() {
        let file = TempIDFile(parsing: "u 1 13/05/2020 17:45:06 13/05/2020 17:45:06", format: .utc)
        #expect(file.problems.isEmpty)
        #expect(file.grants.first?.validity == ValidityWindow(start: sampleIssueTime, expiry: sampleIssueTime))
    }

    @Test func blankLinesAreIgnored() {
        let file = TempIDFile(parsing: "\r\n" + Self.sample + "\r\n \r\n\r\n", format: .utc)
        #expect(file.grants == Self.expected)
        #expect(file.problems.isEmpty)
    }
}
