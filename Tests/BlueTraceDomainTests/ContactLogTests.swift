import BlueTraceDomain
import Testing

@Suite("RetentionPolicy")
struct RetentionPolicyTests {
    @Test func assignmentRetentionIsThreeMinutes() {
        #expect(RetentionPolicy.assignmentRetention == 180)
        #expect(RetentionPolicy().retention == 180)
    }

    @Test(arguments: [(Int64(0), true), (1, true), (179, true), (180, true), (181, false), (1_000, false)])
    func keepsWhileAgeIsAtMostTheRetention(age: Int64, kept: Bool) {
        #expect(RetentionPolicy().keeps(receivedAt: sampleIssueTime, at: sampleIssueTime + age) == kept)
    }

    @Test(arguments: [Int64(0), 1, 180, 3_600])
    func removalTimeIsTheFirstSecondNotKept(retention: Int64) {
        let policy = RetentionPolicy(retention: retention)
        let removal = policy.removalTime(receivedAt: sampleIssueTime)
        #expect(removal == sampleIssueTime + retention + 1)
        #expect(policy.keeps(receivedAt: sampleIssueTime, at: removal - 1))
        #expect(!policy.keeps(receivedAt: sampleIssueTime, at: removal))
    }
}

@Suite("ContactLog")
struct ContactLogTests {
    static let validity = TempIDPolicy().validity(issuedAt: sampleIssueTime)

    static func entry(_ id: String, receivedAt: Timestamp) -> ContactLogEntry {
        ContactLogEntry(tempID: tempID(id), validity: validity, receivedAt: receivedAt)
    }

    @Test func appendKeepsOrder() {
        var log = ContactLog()
        #expect(log.entries.isEmpty)
        let first = Self.entry("12345678901234567890", receivedAt: sampleIssueTime + 10)
        let second = Self.entry("12345678901234567891", receivedAt: sampleIssueTime + 20)
        log.append(first)
        log.append(second)
        #expect(log.entries == [first, second])
        #expect(ContactLog(entries: [first, second]) == log)
    }

    @Test func pruneRemovesEntriesExactlyWhenTheyPassTheRetention() {
        let clock = ManualWallClock(sampleIssueTime)
        let policy = RetentionPolicy()
        var log = ContactLog()
        let first = Self.entry("12345678901234567890", receivedAt: clock.now())
        let second = Self.entry("12345678901234567891", receivedAt: clock.now() + 10)
        log.append(first)
        log.append(second)
        #expect(log.nextRemoval(policy: policy) == sampleIssueTime + 181)

        clock.set(sampleIssueTime + 180)
        #expect(log.prune(at: clock.now(), policy: policy) == 0)
        #expect(log.entries == [first, second])

        clock.advance(by: 1)
        #expect(log.prune(at: clock.now(), policy: policy) == 1)
        #expect(log.entries == [second])
        #expect(log.nextRemoval(policy: policy) == sampleIssueTime + 191)

        clock.set(sampleIssueTime + 190)
        #expect(log.prune(at: clock.now(), policy: policy) == 0)
        clock.advance(by: 1)
        #expect(log.prune(at: clock.now(), policy: policy) == 1)
        #expect(log.entries.isEmpty)
        #expect(log.nextRemoval(policy: policy) == nil)
    }

    @Test func pruneCanRemoveSeveralAtOnceAndLeavesTheRestInOrder() {
        var log = ContactLog()
        for offset in [0, 5, 100, 200, 300] as [Int64] {
            log.append(Self.entry("id\(offset)", receivedAt: sampleIssueTime + offset))
        }
        let removed = log.prune(at: sampleIssueTime + 285, policy: RetentionPolicy())
        #expect(removed == 3)
        #expect(log.entries.map(\.tempID.rawValue) == ["id200", "id300"])
    }

    @Test func nextRemovalFollowsTheOldestEntryWhateverTheOrder() {
        let log = ContactLog(entries: [
            Self.entry("b", receivedAt: sampleIssueTime + 50),
            Self.entry("a", receivedAt: sampleIssueTime + 20),
            Self.entry("c", receivedAt: sampleIssueTime + 90),
        ])
        #expect(log.nextRemoval(policy: RetentionPolicy()) == sampleIssueTime + 201)
        #expect(log.nextRemoval(policy: RetentionPolicy(retention: 0)) == sampleIssueTime + 21)
        #expect(ContactLog().nextRemoval(policy: RetentionPolicy()) == nil)
    }

    @Test func lineHasTheAssignmentFieldsThenTheReceiveTime() {
        let entry = Self.entry("12345678901234567890", receivedAt: sampleIssueTime + 294)
        #expect(
            ContactLog.line(for: entry, format: .utc)
                == "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05 13/05/2020 17:50:00")
    }

    @Test func textEndsEveryLineAndParsesBackToTheSameLog() {
        let log = ContactLog(entries: [
            Self.entry("12345678901234567890", receivedAt: sampleIssueTime + 1),
            Self.entry("12345678901234567891", receivedAt: sampleIssueTime + 2),
            ContactLogEntry(
                tempID: tempID("12345678901234567892"),
                validity: ValidityWindow(start: ts(-1), expiry: ts(898)), receivedAt: ts(0)),
        ])
        let text = log.text(format: .utc)
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").count == 3)
        let parsed = ContactLog.parse(text, format: .utc, readAt: ts(999_999))
        #expect(parsed.problems.isEmpty)
        #expect(parsed.log == log)
    }

    @Test func emptyLogIsEmptyText() {
        #expect(ContactLog().text(format: .utc) == "")
        let parsed = ContactLog.parse("", format: .utc, readAt: sampleIssueTime)
        #expect(parsed.log.entries.isEmpty)
        #expect(parsed.problems.isEmpty)
    }

    @Test func threeFieldLinesAreReceivedWhenRead() {
        let text =
            "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n"
            + "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05 13/05/2020 17:55:00\r\n"
        let readAt = sampleIssueTime + 1_000
        let parsed = ContactLog.parse(text, format: .utc, readAt: readAt)
        #expect(parsed.problems.isEmpty)
        #expect(
            parsed.log.entries == [
                Self.entry("12345678901234567890", receivedAt: readAt),
                ContactLogEntry(
                    tempID: tempID("12345678901234567891"),
                    validity: ValidityWindow(start: ts(1_589_392_446), expiry: ts(1_589_393_345)),
                    receivedAt: ts(1_589_392_500)),
            ])
    }

    @Test(arguments: [
        "12345678901234567890",
        "12345678901234567890 13/05/2020 17:45:06",
        "12345678901234567890 13/05/2020 17:45:06 13/05/2020",
        "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05 13/05/2020",
        "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05 13/05/2020 17:50:00 extra",
        "12345678901234567890 31/02/2020 17:45:06 13/05/2020 18:00:05",
        "12345678901234567890 13/05/2020 17:45:06 13/05/2020 25:00:05",
        "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05 13/05/2020 17:50:60",
        "1234567890\u{E9} 13/05/2020 17:45:06 13/05/2020 18:00:05",
        "13/05/2020 17:45:06 13/05/2020 18:00:05",
    ])
    func reportsBadLinesWithTheirNumberAndKeepsTheRest(bad: String) throws {
        let good = "12345678901234567891 13/05/2020 17:45:06 13/05/2020 18:00:05 13/05/2020 17:46:00"
        let text = "\(good)\n\n\(bad)\n\(good)"
        let parsed = ContactLog.parse(text, format: .utc, readAt: sampleIssueTime)
        #expect(parsed.log.entries.count == 2)
        let problem = try #require(parsed.problems.first)
        #expect(parsed.problems.count == 1)
        #expect(problem.line == 3)
    }
}
