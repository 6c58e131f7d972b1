import BlueTraceDomain
import Testing

@Suite("Registration rules")
struct RegistrationRulesTests {
    @Test(arguments: ["+61410777777", "+12345678", "+123456789012345", "+6141077777"])
    func acceptsInternationalPhoneNumbers(username: String) {
        #expect(RegistrationRules.isPhoneNumber(username))
        #expect(RegistrationRules.problem(username: username, password: "12345678") == nil)
    }

    @Test(arguments: [
        "61410777777", "+1234567", "+1234567890123456", "+6141O777777", "+61 410777777", "", "+", "++61410777777",
    ])
    func refusesOtherUsernames(username: String) {
        #expect(!RegistrationRules.isPhoneNumber(username))
        #expect(
            RegistrationRules.problem(username: username, password: "long enough")?.contains("phone number") == true)
    }

    @Test func passwordsNeedEightCharacters() {
        #expect(RegistrationRules.problem(username: "+61410777777", password: "1234567")?.contains("8") == true)
        #expect(RegistrationRules.problem(username: "+61410777777", password: "12345678") == nil)
        #expect(
            RegistrationRules.problem(username: "+61410777777", password: "pässwörd") == nil, "characters, not bytes")
    }
}

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
}
