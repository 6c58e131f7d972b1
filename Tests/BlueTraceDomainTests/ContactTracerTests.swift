import BlueTraceDomain
import Testing

@Suite("ContactTracer")
struct ContactTracerTests {
    static let grant = TempIDGrant(
        user: "+61410999999", tempID: tempID("12345678901234567890"),
        validity: TempIDPolicy().validity(issuedAt: sampleIssueTime))

    static func encounter(
        start: Timestamp = grant.validity.start, expiry: Timestamp = grant.validity.expiry,
        receivedAt: Timestamp?
    ) -> ReportedEncounter {
        ReportedEncounter(
            tempID: grant.tempID, validity: ValidityWindow(start: start, expiry: expiry), receivedAt: receivedAt)
    }

    @Test func unknownTempIDIsUnmatched() {
        let verdict = ContactTracer.verdict(for: Self.encounter(receivedAt: sampleIssueTime), grant: nil)
        #expect(verdict == .unmatched(.unknownTempID))
    }

    @Test(arguments: [(Int64(-1), Int64(0)), (1, 0), (0, -1), (0, 1), (900, 900)])
    func differentTimesAreAMismatch(startShift: Int64, expiryShift: Int64) {
        let encounter = Self.encounter(
            start: Self.grant.validity.start + startShift, expiry: Self.grant.validity.expiry + expiryShift,
            receivedAt: Self.grant.validity.start + 1)
        #expect(ContactTracer.verdict(for: encounter, grant: Self.grant) == .unmatched(.timeMismatch))
    }

    /// The assignment's sample logs hold encounters heard on other days; the receive time is kept, not judged.
    @Test(arguments: [Int64(-1), 0, 1, 450, 899, 900, 10_000, -10_000])
    func matchingTimesTraceWheneverTheEncounterWasHeard(offset: Int64) {
        let encounter = Self.encounter(receivedAt: sampleIssueTime + offset)
        #expect(ContactTracer.verdict(for: encounter, grant: Self.grant) == .traced(Self.grant))
    }

    @Test func withoutAReceiveTimeMatchingTimesAreEnough() {
        #expect(ContactTracer.verdict(for: Self.encounter(receivedAt: nil), grant: Self.grant) == .traced(Self.grant))
    }

    @Test func reportedEncounterCopiesAContactLogEntry() {
        let entry = ContactLogEntry(
            tempID: Self.grant.tempID, validity: Self.grant.validity, receivedAt: sampleIssueTime + 7)
        let encounter = ReportedEncounter(entry)
        #expect(encounter.tempID == entry.tempID)
        #expect(encounter.validity == entry.validity)
        #expect(encounter.receivedAt == sampleIssueTime + 7)
        #expect(ReportedEncounter(tempID: entry.tempID, validity: entry.validity).receivedAt == nil)
    }

    @Test func reasonsHaveStableWireNamesAndDistinctExplanations() {
        #expect(
            UnmatchedReason.allCases.map(\.rawValue) == [
                "unknown_tempid", "time_mismatch", "malformed",
            ])
        let explanations = UnmatchedReason.allCases.map(\.explanation)
        #expect(Set(explanations).count == UnmatchedReason.allCases.count)
        #expect(explanations.allSatisfy { !$0.isEmpty })
        #expect(UnmatchedReason(rawValue: "time_mismatch") == .timeMismatch)
    }

    /// The whole story: the server issues TempIDs, a phone logs beacons, the upload is traced against the registry.
    @Test func tracesAnUploadedContactLogAgainstTheRegistry() {
        var generator = SplitMix64(seed: 2020)
        var registry = TempIDRegistry()
        let policy = TempIDPolicy()
        let kara = registry.issueDecimal(to: "+61410666666", at: sampleIssueTime, policy: policy, using: &generator)
        let datha = registry.issueDecimal(
            to: "+61410777777", at: sampleIssueTime + 60, policy: policy, using: &generator)

        var log = ContactLog()
        log.append(ContactLogEntry(tempID: kara.tempID, validity: kara.validity, receivedAt: sampleIssueTime + 30))
        log.append(ContactLogEntry(tempID: datha.tempID, validity: datha.validity, receivedAt: sampleIssueTime + 30))
        log.append(
            ContactLogEntry(
                tempID: kara.tempID, validity: ValidityWindow(start: ts(0), expiry: ts(899)),
                receivedAt: sampleIssueTime + 31))
        log.append(
            ContactLogEntry(
                tempID: tempID("00000000000000000000"), validity: kara.validity, receivedAt: sampleIssueTime + 32))

        let verdicts = log.entries.map {
            ContactTracer.verdict(for: ReportedEncounter($0), grant: registry.grant(for: $0.tempID))
        }
        let expected: [TraceVerdict] = [
            .traced(kara), .traced(datha), .unmatched(.timeMismatch), .unmatched(.unknownTempID),
        ]
        #expect(verdicts == expected)
    }
}
