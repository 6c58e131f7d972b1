import BlueTraceDomain
import Testing

@Suite("TempID wallet")
struct TempIDWalletTests {
    static func window(_ start: Int64) -> ValidityWindow {
        ValidityWindow(start: ts(start), expiry: ts(start + 899))
    }

    @Test func aSingleTempIDIsSentEvenWhenExpiredAndNeverRenewedAutomatically() {
        var wallet = TempIDWallet()
        #expect(wallet.tempID(at: ts(0)) == nil)
        wallet.fill(with: [IssuedTempID(tempID: tempID("11111111111111111111"), validity: Self.window(0))])
        #expect(wallet.tempID(at: ts(10))?.isValid == true)
        let late = wallet.tempID(at: ts(900))
        #expect(late?.issued.tempID == tempID("11111111111111111111"))
        #expect(late?.isValid == false)
        #expect(!wallet.needsRenewal(at: ts(10_000)))
    }

    @Test func aBatchIsUsedInTurnAndRenewedWhenAllHaveExpired() {
        var wallet = TempIDWallet()
        wallet.fill(with: [
            IssuedTempID(tempID: tempID("B"), validity: Self.window(900)),
            IssuedTempID(tempID: tempID("A"), validity: Self.window(0)),
            IssuedTempID(tempID: tempID("C"), validity: Self.window(1800)),
        ])
        #expect(wallet.tempID(at: ts(0))?.issued.tempID == tempID("A"))
        #expect(wallet.tempID(at: ts(899))?.issued.tempID == tempID("A"))
        #expect(wallet.tempID(at: ts(900))?.issued.tempID == tempID("B"))
        #expect(wallet.tempID(at: ts(2699))?.issued.tempID == tempID("C"))
        #expect(!wallet.needsRenewal(at: ts(2699)))
        #expect(wallet.needsRenewal(at: ts(2700)))
        #expect(wallet.tempID(at: ts(2700))?.isValid == false)
    }

    @Test func currentDiscardsExpiredTempIDsAndKeepsEachTempIDsTextWhateverItsLength() {
        var wallet = TempIDWallet()
        let sealed = String(repeating: "Zm9v", count: 20)
        wallet.fill(with: [
            IssuedTempID(tempID: tempID("12345678901234567890"), validity: Self.window(0)),
            IssuedTempID(tempID: tempID(sealed), validity: Self.window(900)),
            IssuedTempID(tempID: tempID("x"), validity: Self.window(1800)),
        ])
        #expect(wallet.current(at: ts(5))?.tempID == tempID("12345678901234567890"))
        #expect(wallet.current(at: ts(900)) == IssuedTempID(tempID: tempID(sealed), validity: Self.window(900)))
        // Discarded: asked again for an earlier time, the first TempID is gone.
        #expect(wallet.tempID(at: ts(5))?.issued.tempID == tempID("x"))
        #expect(wallet.current(at: ts(2000))?.tempID == tempID("x"))
        #expect(!wallet.needsRenewal(at: ts(2699)))
        #expect(wallet.current(at: ts(2700)) == nil)
        #expect(wallet.tempID(at: ts(2700)) == nil)
        #expect(wallet.needsRenewal(at: ts(2700)))
        wallet.fill(with: [IssuedTempID(tempID: tempID("22222222222222222222"), validity: Self.window(2700))])
        #expect(wallet.current(at: ts(2700))?.tempID == tempID("22222222222222222222"))
    }
}
