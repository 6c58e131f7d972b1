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
