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

    static func verdict(_ encounter: ReportedEncounter, _ lookup: TempIDLookup, judging: Bool = false) -> TraceVerdict {
        ContactTracer.verdict(for: encounter, lookup: lookup, judgingEncounterTime: judging)
    }

    @Test(arguments: [false, true])
    func unknownTempIDIsUnmatched(judging: Bool) {
        #expect(
            Self.verdict(Self.encounter(receivedAt: sampleIssueTime), .unknown, judging: judging)
                == .unmatched(.unknownID))
    }

    @Test(arguments: [false, true])
    func undecryptableTempIDFailedDecryption(judging: Bool) {
        #expect(
            Self.verdict(Self.encounter(receivedAt: sampleIssueTime), .undecryptable, judging: judging)
                == .unmatched(.failedDecryption))
    }

    @Test(arguments: [(Int64(-1), Int64(0)), (1, 0), (0, -1), (0, 1), (900, 900)])
    func differentTimesAreAMismatch(startShift: Int64, expiryShift: Int64) {
        let encounter = Self.encounter(
            start: Self.grant.validity.start + startShift, expiry: Self.grant.validity.expiry + expiryShift,
            receivedAt: Self.grant.validity.start + 1)
        #expect(Self.verdict(encounter, .issued(Self.grant)) == .unmatched(.timeMismatch))
        #expect(Self.verdict(encounter, .issued(Self.grant), judging: true) == .unmatched(.timeMismatch))
    }

    /// The assignment's sample logs hold encounters heard on other days; the receive time is kept, not judged.
    @Test(arguments: [Int64(-1), 0, 1, 450, 899, 900, 10_000, -10_000])
    func withoutJudgingMatchingTimesTraceWheneverHeard(offset: Int64) {
        let encounter = Self.encounter(receivedAt: sampleIssueTime + offset)
        #expect(Self.verdict(encounter, .issued(Self.grant)) == .traced(Self.grant))
    }

    @Test(arguments: [Int64(-1), 900, 10_000, -10_000])
    func judgingHeardOutsideTheWindowIsAnExpiredID(offset: Int64) {
        let encounter = Self.encounter(receivedAt: sampleIssueTime + offset)
        #expect(Self.verdict(encounter, .issued(Self.grant), judging: true) == .unmatched(.expiredID))
    }

    @Test(arguments: [Int64(0), 1, 450, 899])
    func judgingHeardInsideTheWindowTraces(offset: Int64) {
        let encounter = Self.encounter(receivedAt: sampleIssueTime + offset)
        #expect(Self.verdict(encounter, .issued(Self.grant), judging: true) == .traced(Self.grant))
    }

    @Test func withoutAReceiveTimeMatchingTimesAreEnough() {
        #expect(
            Self.verdict(Self.encounter(receivedAt: nil), .issued(Self.grant), judging: true)
                == .traced(Self.grant))
    }

    @Test func aTimeMismatchIsReportedBeforeTheReceiveTime() {
        let encounter = Self.encounter(expiry: Self.grant.validity.expiry + 5, receivedAt: sampleIssueTime + 902)
        #expect(Self.verdict(encounter, .issued(Self.grant), judging: true) == .unmatched(.timeMismatch))
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
                "unknown_id", "failed_decryption", "time_mismatch", "expired_id", "malformed",
            ])
        let explanations = UnmatchedReason.allCases.map(\.explanation)
        #expect(Set(explanations).count == UnmatchedReason.allCases.count)
        #expect(explanations.allSatisfy { !$0.isEmpty })
    }

    /// The whole story: the server issues TempIDs, a phone logs beacons, the upload is traced against the mappings.
    @Test func tracesAnUploadedContactLogAgainstTheIssuedTempIDs() {
        var generator = SplitMix64(seed: 2020)
        let policy = TempIDPolicy()
        let kara = TempIDGrant(
            user: "+61410666666", tempID: TempID.randomDecimal(using: &generator),
            validity: policy.validity(issuedAt: sampleIssueTime))
        let datha = TempIDGrant(
            user: "+61410777777", tempID: TempID.randomDecimal(using: &generator),
            validity: policy.validity(issuedAt: sampleIssueTime + 60))
        let issued = [kara.tempID: kara, datha.tempID: datha]

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

        let verdicts = log.entries.map { entry in
            ContactTracer.verdict(
                for: ReportedEncounter(entry),
                lookup: issued[entry.tempID].map { .issued($0) } ?? .unknown,
                judgingEncounterTime: true)
        }
        let expected: [TraceVerdict] = [
            .traced(kara), .unmatched(.expiredID), .unmatched(.timeMismatch), .unmatched(.unknownID),
        ]
        #expect(verdicts == expected)
    }
}
