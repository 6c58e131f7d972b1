import BlueTraceDomain
import Testing

@testable import BlueTraceSecurity

private let t0 = Timestamp(secondsSinceEpoch: 1_589_391_906)

@Suite("Upload code authenticator")
struct UploadCodeAuthenticatorTests {
    @Test("A code is 8 digits, matches only on its own phone, and is stored only as a MAC")
    func issueAndMatch() {
        let authenticator = UploadCodeAuthenticator(keyRing: KeyRing.generate(at: t0))
        let (code, pending) = authenticator.issue(for: "+61410666666", at: t0, lifetime: 900)
        #expect(code.count == 8 && code.allSatisfy(\.isNumber))
        #expect(pending.expiresAt == t0 + 899)
        #expect(pending.mac.count == 32)
        #expect(!pending.mac.elementsEqual(Array(code.utf8)))
        #expect(authenticator.matches(code, phone: "+61410666666", pending))
        #expect(!authenticator.matches(code, phone: "+61410777777", pending), "a code is bound to one phone")
        let other = String(code.dropLast()) + (code.last == "0" ? "1" : "0")
        #expect(!authenticator.matches(other, phone: "+61410666666", pending))
    }

    @Test("Codes issued before a key rotation still verify after it; another server's keys do not")
    func rotation() {
        var ring = KeyRing.generate(at: t0)
        let (code, pending) = UploadCodeAuthenticator(keyRing: ring).issue(for: "+61410666666", at: t0, lifetime: 60)
        _ = ring.rotate(at: t0 + 10)
        let rotated = UploadCodeAuthenticator(keyRing: ring)
        #expect(rotated.matches(code, phone: "+61410666666", pending))
        #expect(rotated.issue(for: "+61410666666", at: t0, lifetime: 60).pending.keyID != pending.keyID)
        #expect(
            !UploadCodeAuthenticator(keyRing: KeyRing.generate(at: t0)).matches(code, phone: "+61410666666", pending))
    }

    @Test("Every digit is drawn uniformly (no digit takes far more than its tenth over 20,000 codes)")
    func uniformDigits() {
        let authenticator = UploadCodeAuthenticator(keyRing: KeyRing.generate(at: t0))
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20_000 {
            for digit in authenticator.issue(for: "+61410666666", at: t0, lifetime: 60).code {
                counts[digit.wholeNumberValue!] += 1
            }
        }
        // 160,000 digits: 16,000 expected each, standard deviation 120; ±1,000 is over 8 deviations.
        #expect(counts.allSatisfy { abs($0 - 16_000) < 1_000 }, "\(counts)")
    }
}
