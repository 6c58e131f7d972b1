import BlueTraceSecurity
import Foundation
import Testing

@Suite("PasswordHasher")
struct PasswordHasherTests {
    static let hasher = PasswordHasher(parameters: .fast)
    static let password = "correct horse battery staple"
    /// A valid hash of `password`, made once.
    static let validHash = try! hasher.hash(password)

    /// The salt and hash fields of `validHash`.
    static var saltAndHash: (salt: Substring, hash: Substring) {
        let fields = validHash.split(separator: "$", omittingEmptySubsequences: false)
        return (fields[3], fields[4])
    }

    @Test func hashThenVerify() throws {
        let encoded = try Self.hasher.hash(Self.password)
        #expect(Self.hasher.verify(Self.password, against: encoded))
    }

    @Test(arguments: [
        "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple ", "x",
    ])
    func wrongPasswordFails(attempt: String) {
        #expect(!Self.hasher.verify(attempt, against: Self.validHash))
    }

    @Test func saltMakesEveryHashDifferent() throws {
        let first = try Self.hasher.hash(Self.password)
        let second = try Self.hasher.hash(Self.password)
        #expect(first != second)
        #expect(Self.hasher.verify(Self.password, against: first))
        #expect(Self.hasher.verify(Self.password, against: second))
    }

    @Test func hashIsAPHCStringWithItsParameters() throws {
        let encoded = try Self.hasher.hash(Self.password)
        #expect(encoded.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        try #require(fields.count == 5)
        // 16 bytes of salt and 32 of hash in unpadded base64.
        #expect(fields[3].count == 22)
        #expect(fields[4].count == 43)
        #expect(!fields[3].contains("=") && !fields[4].contains("="))
        let standard = try PasswordHasher().hash(Self.password)
        #expect(standard.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
    }

    @Test func verifyUsesTheParametersInTheString() throws {
        let other = PasswordHasher(parameters: .init(logRounds: 9, blockSize: 4, parallelism: 2))
        let encoded = try other.hash(Self.password)
        #expect(encoded.hasPrefix("$scrypt$ln=9,r=4,p=2$"))
        #expect(Self.hasher.verify(Self.password, against: encoded))
        #expect(!Self.hasher.verify("wrong", against: encoded))
        #expect(other.verify(Self.password, against: Self.validHash))
        #expect(PasswordHasher().verify(Self.password, against: encoded))
    }

    /// Hashes made by Python's `hashlib.scrypt`, written as PHC strings: the format and KDF interoperate.
    @Test(arguments: [
        (
            "correct horse battery staple",
            "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU"
        ),
        ("pässwörd", "$scrypt$ln=4,r=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$Qe5/fHzKoE4zcNZH/2HcMShwegMWep46nYWQBKx0Kjk"),
    ])
    func verifiesHashesFromAnotherImplementation(password: String, encoded: String) {
        #expect(Self.hasher.verify(password, against: encoded))
        #expect(!Self.hasher.verify(password + "!", against: encoded))
    }

    @Test func changingTheRecordedParametersBreaksVerification() {
        let changed = Self.validHash.replacingOccurrences(of: "ln=10,", with: "ln=11,")
        #expect(changed != Self.validHash)
        #expect(!Self.hasher.verify(Self.password, against: changed))
    }

    @Test func needsRehashWhenParametersDifferOrMalformed() throws {
        #expect(!Self.hasher.needsRehash(Self.validHash))
        #expect(PasswordHasher().needsRehash(Self.validHash))
        #expect(
            PasswordHasher(parameters: .init(logRounds: 10, blockSize: 8, parallelism: 2)).needsRehash(Self.validHash))
        #expect(Self.hasher.needsRehash(""))
        #expect(Self.hasher.needsRehash("$scrypt$ln=10,r=8,p=1$"))
        #expect(!PasswordHasher().needsRehash(try PasswordHasher().hash("x")))
    }

    static var malformed: [String] {
        let (salt, hash) = saltAndHash
        return [
            "",
            "$",
            "scrypt",
            "$scrypt$",
            "$scrypt$ln=10,r=8,p=1$\(salt)",
            "$scrypt$ln=10,r=8,p=1$\(salt)$",
            "$scrypt$ln=10,r=8,p=1$$\(hash)",
            "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash)$",
            "scrypt$ln=10,r=8,p=1$\(salt)$\(hash)",
            "$argon2id$ln=10,r=8,p=1$\(salt)$\(hash)",
            "$SCRYPT$ln=10,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=10,r=8$\(salt)$\(hash)",
            "$scrypt$r=8,ln=10,p=1$\(salt)$\(hash)",
            "$scrypt$ln=10,r=8,p=1,x=2$\(salt)$\(hash)",
            "$scrypt$ln=,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=010,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=+10,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=-10,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=99,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=21,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=0,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=10,r=0,p=1$\(salt)$\(hash)",
            "$scrypt$ln=10,r=8,p=0$\(salt)$\(hash)",
            "$scrypt$ln=10,r=9999,p=1$\(salt)$\(hash)",
            "$scrypt$ln=10,r=8,p=9999$\(salt)$\(hash)",
            "$scrypt$ln=20,r=16,p=1$\(salt)$\(hash)",
            "$scrypt$ln=99999999999999999999,r=8,p=1$\(salt)$\(hash)",
            "$scrypt$ln=10,r=8,p=1$!!!!$\(hash)",
            "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash.dropLast(2))",
            "$scrypt$ln=10,r=8,p=1$\(salt)==$\(hash)",
            "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash)=",
            "$scrypt$ln=10,r=8,p=1$c2FsdA$\(hash)",
            "$scrypt$ln=10,r=8,p=1$\(salt)$aGFzaA",
            "$scrypt$ln=10,r=8,p=1$\(salt) $\(hash)",
            "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash)\n",
            String(repeating: "$scrypt$ln=10,r=8,p=1$\(salt)$\(hash)", count: 100),
        ]
    }

    @Test(arguments: malformed)
    func malformedStringsNeverVerify(encoded: String) {
        #expect(!Self.hasher.verify(Self.password, against: encoded))
        #expect(Self.hasher.needsRehash(encoded))
    }

    @Test func tamperedHashDoesNotVerify() {
        var characters = Array(Self.validHash)
        let last = characters.count - 2
        characters[last] = characters[last] == "A" ? "B" : "A"
        #expect(!Self.hasher.verify(Self.password, against: String(characters)))
    }

    @Test(arguments: ["correct horse battery staple", "Tr0ub4dor&3-ABCDEFGH", "pässwörd 🔐 密码"])
    func plaintextNeverAppearsInTheHash(password: String) throws {
        let encoded = try Self.hasher.hash(password)
        #expect(!encoded.contains(password))
        #expect(!encoded.contains(Data(password.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")))
    }

    @Test(arguments: ["pässwörd", "密码很长很长", "🔐🗝️", "emoji 👩‍👩‍👧 family", "ç"])
    func unicodePasswordsRoundTrip(password: String) throws {
        let encoded = try Self.hasher.hash(password)
        #expect(Self.hasher.verify(password, against: encoded))
        #expect(!Self.hasher.verify(password + "x", against: encoded))
    }

    @Test func canonicallyEquivalentPasswordsVerify() throws {
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        let encoded = try Self.hasher.hash(composed)
        #expect(Self.hasher.verify(decomposed, against: encoded))
        #expect(!Self.hasher.verify("cafe", against: encoded))
    }

    @Test func emptyPasswordIsRefused() {
        #expect(throws: PasswordHashError.emptyPassword) { try Self.hasher.hash("") }
        #expect(!Self.hasher.verify("", against: Self.validHash))
    }

    @Test(arguments: [
        PasswordHasher.Parameters(logRounds: 0, blockSize: 8, parallelism: 1),
        PasswordHasher.Parameters(logRounds: 21, blockSize: 8, parallelism: 1),
        PasswordHasher.Parameters(logRounds: 10, blockSize: 0, parallelism: 1),
        PasswordHasher.Parameters(logRounds: 10, blockSize: 8, parallelism: 17),
        PasswordHasher.Parameters(logRounds: 20, blockSize: 16, parallelism: 1),
    ])
    func unsupportedParametersAreRefused(parameters: PasswordHasher.Parameters) {
        #expect(!parameters.isSupported)
        let error = #expect(throws: PasswordHashError.self) { try PasswordHasher(parameters: parameters).hash("x") }
        #expect(error == .unsupportedParameters(parameters))
        #expect(error?.description.contains("not supported") == true)
    }

    @Test func presetParametersAreSupported() {
        #expect(PasswordHasher.Parameters.standard.isSupported)
        #expect(PasswordHasher.Parameters.fast.isSupported)
        #expect(PasswordHasher().parameters == .standard)
    }
}
