import Testing

@testable import BlueTraceDomain

private let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

private func code(_ byte: UInt8, expiresAt: Timestamp = t0 + 899) -> PendingUploadCode {
    PendingUploadCode(keyID: 1, mac: [byte], issuedAt: t0, expiresAt: expiresAt)
}

@Suite("Upload code ledger")
struct UploadCodeLedgerTests {
    let policy = UploadCodePolicy()

    @Test("A right code is accepted once; used, it is gone")
    func acceptedOnce() {
        var ledger = UploadCodeLedger()
        ledger.issue(code(7))
        #expect(ledger.redeem(at: t0 + 10, policy: policy) { $0.mac == [7] } == .accepted)
        #expect(ledger.pending.isEmpty)
        #expect(ledger.redeem(at: t0 + 11, policy: policy) { $0.mac == [7] } == .noCode)
    }

    @Test("Wrong codes count down; the fifth voids every pending code; a new code starts the count again")
    func wrongCodesVoid() {
        var ledger = UploadCodeLedger()
        ledger.issue(code(1))
        ledger.issue(code(2))
        for remaining in (1...4).reversed() {
            #expect(ledger.redeem(at: t0, policy: policy) { _ in false } == .wrong(remainingAttempts: remaining))
        }
        #expect(ledger.redeem(at: t0, policy: policy) { _ in false } == .voided)
        #expect(ledger.isEmpty)
        #expect(ledger.redeem(at: t0, policy: policy) { $0.mac == [1] } == .noCode, "voided codes do not come back")
        ledger.issue(code(3))
        #expect(ledger.redeem(at: t0, policy: policy) { _ in false } == .wrong(remainingAttempts: 4))
        ledger.issue(code(4))
        #expect(ledger.failures == 0, "issuing a code gives the phone a fresh count")
        #expect(ledger.redeem(at: t0, policy: policy) { $0.mac == [3] } == .accepted)
    }

    @Test("A code is valid through its last second and expired after; expired codes leave the ledger")
    func expiry() {
        var ledger = UploadCodeLedger()
        ledger.issue(code(1, expiresAt: t0 + 100))
        ledger.issue(code(2, expiresAt: t0 + 100))
        #expect(ledger.redeem(at: t0 + 100, policy: policy) { $0.mac == [1] } == .accepted)
        #expect(ledger.redeem(at: t0 + 101, policy: policy) { $0.mac == [2] } == .expired(expiredAt: t0 + 100))
        #expect(ledger.isEmpty)
    }

    @Test("Without a pending code nothing is counted: there is nothing to guess")
    func noCode() {
        var ledger = UploadCodeLedger()
        #expect(ledger.redeem(at: t0, policy: policy) { _ in true } == .noCode)
        #expect(ledger.failures == 0)
    }

    @Test("Every refusal tells the user that nothing was stored and what to do")
    func explanations() {
        for decision in [UploadCodeDecision.wrong(remainingAttempts: 2), .expired(expiredAt: t0), .voided, .noCode] {
            #expect(decision.explanation.contains("Nothing was stored."))
            #expect(!decision.isAccepted)
        }
        #expect(UploadCodeDecision.wrong(remainingAttempts: 1).explanation.contains("1 more wrong code voids"))
    }
}
