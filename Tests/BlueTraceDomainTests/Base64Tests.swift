import Foundation
import Testing

@testable import BlueTraceDomain

@Suite("Strict base64")
struct Base64Tests {
    /// What the decoder must answer: Foundation's decoding, kept only when re-encoding gives the text back.
    static func reference(_ text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text) else { return nil }
        let bytes = [UInt8](data)
        return Data(bytes).base64EncodedString() == text ? bytes : nil
    }

    @Test("Every length of bytes round-trips through the padded encoding, encoded as Foundation encodes it")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        for count in 0...100 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.decodePadded(Base64.encodePadded(bytes)) == bytes)
            #expect(Base64.encodePadded(bytes) == Data(bytes).base64EncodedString(), "\(bytes)")
        }
    }

    @Test("Only canonical text decodes, exactly as Foundation's decoder with a canonical check would answer")
    func onlyCanonical() {
        let fixed = [
            "", "=", "==", "A===", "AA==", "AB==", "AAA=", "AAB=", "AAAA", "A=AA", "AA=A", "AAAA====", "QUJD", "QUJ",
            "QU JD", "QUJD\n", "Zg==", "Zh==", "Zm8=", "Zm9=", "Zm9v", "-_-_", "ÿÿÿÿ",
        ]
        for text in fixed { #expect(Base64.decodePadded(text) == Self.reference(text), "\(text)") }
        // Random near-misses: canonical encodings with one character changed.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=.")
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 1...60, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            var characters = Array(Base64.encodePadded(bytes))
            characters[Int.random(in: 0..<characters.count, using: &generator)] = alphabet.randomElement(
                using: &generator)!
            let text = String(characters)
            #expect(Base64.decodePadded(text) == Self.reference(text), "\(text)")
        }
    }
}
