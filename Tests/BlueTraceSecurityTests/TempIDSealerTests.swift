import BlueTraceDomain
import BlueTraceSecurity
import Crypto
import Foundation
import Testing

@Suite("TempIDSealer")
struct TempIDSealerTests {
    static let ring = KeyRing.generate(at: sampleTime)
    static let sealer = TempIDSealer(keyRing: ring)
    static let user = "+6591234567"
    static let validity = ValidityWindow(start: sampleTime, expiry: sampleTime + 899)

    /// The 58 bytes a sealed TempID stands for.
    static func bytes(_ tempID: TempID) throws -> [UInt8] {
        try #require(Data(base64Encoded: tempID.rawValue).map { [UInt8]($0) })
    }

    /// The TempID written as `bytes`.
    static func tempID(_ bytes: [UInt8]) throws -> TempID {
        try #require(TempID(Data(bytes).base64EncodedString()))
    }

    @Test func sealThenOpen() throws {
        let tempID = try Self.sealer.seal(user: Self.user, validity: Self.validity)
        #expect(Self.sealer.open(tempID) == .opened(user: Self.user, validity: Self.validity))
    }

    @Test func sealedTempIDIs80CharactersOfBase64() throws {
        let tempID = try Self.sealer.seal(user: Self.user, validity: Self.validity)
        #expect(TempIDSealer.sealedLength == 80)
        #expect(tempID.rawValue.count == 80)
        #expect(TempID(tempID.rawValue) == tempID)
        #expect(!tempID.isDecimal)
        #expect(tempID.rawValue.hasSuffix("=="))
        let bytes = try Self.bytes(tempID)
        #expect(bytes.count == 58)
        #expect(bytes[0] == Self.ring.current.id)
        #expect(!tempID.rawValue.contains(Self.user))
    }

    @Test func sealingTwiceGivesDifferentTempIDs() throws {
        let first = try Self.sealer.seal(user: Self.user, validity: Self.validity)
        let second = try Self.sealer.seal(user: Self.user, validity: Self.validity)
        #expect(first != second)
        // Different nonces.
        #expect(try Self.bytes(first)[1..<13] != Self.bytes(second)[1..<13])
        #expect(Self.sealer.open(second) == Self.sealer.open(first))
    }

    @Test(arguments: ["a", "+6591234567", "123456789012345678901", "éééééééééé1", "用户", "🔐🔐🔐🔐🔐"])
    func usersUpTo21BytesRoundTrip(user: String) throws {
        let tempID = try Self.sealer.seal(user: user, validity: Self.validity)
        #expect(Self.sealer.open(tempID) == .opened(user: user, validity: Self.validity))
    }

    @Test func extremeTimesRoundTrip() throws {
        let widest = ValidityWindow(
            start: Timestamp(secondsSinceEpoch: 0), expiry: Timestamp(secondsSinceEpoch: Int64(UInt32.max)))
        let instant = ValidityWindow(start: sampleTime, expiry: sampleTime)
        for validity in [widest, instant] {
            let tempID = try Self.sealer.seal(user: Self.user, validity: validity)
            #expect(Self.sealer.open(tempID) == .opened(user: Self.user, validity: validity))
        }
    }

    @Test func forgedTempIDsFailDecryption() throws {
        var generator = SystemRandomNumberGenerator()
        for attempt in 0..<20 {
            var bytes = (0..<58).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            // Half of the forgeries name the real key, so they reach AES-GCM; the others name a key the ring lacks.
            if attempt.isMultiple(of: 2) { bytes[0] = Self.ring.current.id }
            if bytes[0] == Self.ring.current.id {
                #expect(Self.sealer.open(try Self.tempID(bytes)) == .failedDecryption)
            } else {
                #expect(Self.sealer.open(try Self.tempID(bytes)) == .unknownKey(id: bytes[0]))
            }
        }
    }

    /// Byte offsets in each region: key id, nonce, ciphertext, tag.
    @Test(arguments: [0, 1, 6, 12, 13, 30, 41, 42, 50, 57])
    func tamperingWithAnyByteFailsDecryption(offset: Int) throws {
        let original = try Self.bytes(try Self.sealer.seal(user: Self.user, validity: Self.validity))
        for bit in 0..<8 {
            var bytes = original
            bytes[offset] ^= 1 << bit
            // A changed key id names a key this ring does not have; any other change fails authentication.
            let expected: SealedTempIDVerdict = offset == 0 ? .unknownKey(id: bytes[0]) : .failedDecryption
            #expect(Self.sealer.open(try Self.tempID(bytes)) == expected)
        }
    }

    @Test func aKeyIDFlipToAnotherKnownKeyFailsDecryption() throws {
        var ring = Self.ring
        ring.rotate(at: sampleTime + 60)
        let sealer = TempIDSealer(keyRing: ring)
        var bytes = try Self.bytes(try sealer.seal(user: Self.user, validity: Self.validity))
        #expect(bytes[0] == 2)
        bytes[0] = 1
        #expect(sealer.open(try Self.tempID(bytes)) == .failedDecryption)
    }

    @Test func otherAssociatedDataOrKeyFailsDecryption() throws {
        let plaintext =
            Array(Self.user.utf8) + [UInt8](repeating: 0, count: 21 - Self.user.utf8.count)
            + [0x65, 0x53, 0xF1, 0x00, 0x65, 0x53, 0xF4, 0x83]
        let tempIDKey = Self.ring.current.derivedKey(for: .tempID)
        // A key of the same ring for another purpose.
        let tokenKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(repeating: UInt8(7), count: 32)), salt: Array("bluetrace".utf8),
            info: Array("another purpose".utf8), outputByteCount: 32)
        let cases: [(SymmetricKey, String)] = [
            (tempIDKey, "bluetrace-tempid-v2"), (tempIDKey, ""), (tokenKey, "bluetrace-tempid-v1"),
            (tempIDKey, "bluetrace-tempid-v1"),
        ]
        var verdicts: [SealedTempIDVerdict] = []
        for (key, associatedData) in cases {
            let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(associatedData.utf8))
            let bytes = [Self.ring.current.id] + Array(try #require(box.combined))
            verdicts.append(Self.sealer.open(try Self.tempID(bytes)))
        }
        #expect(verdicts.prefix(3).allSatisfy { $0 == .failedDecryption })
        // The same construction with the right key and associated data opens: the format is what the docs say.
        let validity = ValidityWindow(
            start: Timestamp(secondsSinceEpoch: 0x6553_F100), expiry: Timestamp(secondsSinceEpoch: 0x6553_F483))
        #expect(verdicts[3] == .opened(user: Self.user, validity: validity))
    }

    /// A sealer with its keys set up once (BoringSSL's `EVP_AEAD`, the fast path) and one going through swift-crypto's
    /// `AES.GCM` on every call read each other's TempIDs, and both refuse a tampered one.
    @Test func preparedAndPortableSealersAgree() throws {
        let portable = TempIDSealer(keyRing: Self.ring, preparingKeys: false)
        #if os(Linux)
            #expect(Self.sealer.preparesKeys)
        #endif
        #expect(!portable.preparesKeys)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let user = String(
                (0..<Int.random(in: 1...21, using: &generator)).map { _ in
                    "0123456789+ab".randomElement(using: &generator)!
                })
            let start = Timestamp(secondsSinceEpoch: Int64.random(in: 0...Int64(UInt32.max), using: &generator))
            let expiry = Timestamp(
                secondsSinceEpoch: Int64.random(in: start.secondsSinceEpoch...Int64(UInt32.max), using: &generator))
            let validity = ValidityWindow(start: start, expiry: expiry)
            let (sealer, opener) = round.isMultiple(of: 2) ? (Self.sealer, portable) : (portable, Self.sealer)
            let tempID = try sealer.seal(user: user, validity: validity)
            #expect(opener.open(tempID) == .opened(user: user, validity: validity))
            var bytes = try Self.bytes(tempID)
            bytes[Int.random(in: 1..<58, using: &generator)] ^= 0x10
            #expect(opener.open(try Self.tempID(bytes)) == .failedDecryption)
        }
        let batch = try Self.sealer.sealBatch(user: Self.user, count: 16, startingAt: sampleTime, lifetime: 900)
        #expect(batch.allSatisfy { portable.open($0.tempID) == .opened(user: Self.user, validity: $0.validity) })
    }

    @Test func anotherRingCannotOpen() throws {
        let tempID = try Self.sealer.seal(user: Self.user, validity: Self.validity)
        #expect(TempIDSealer(keyRing: KeyRing.generate(at: sampleTime)).open(tempID) == .failedDecryption)
    }

    static var malformed: [String] {
        let sealed = try! sealer.seal(user: user, validity: validity).rawValue
        return [
            "12345678901234567890",
            String(sealed.dropLast(4)),
            String(sealed.dropFirst(4)),
            sealed + "AAAA",
            String(sealed.dropLast(2)) + "AA",
            String(repeating: "A", count: 80),
            String(repeating: "!", count: 80),
            String(sealed.dropFirst()) + "-",
            String(sealed.dropFirst()) + "_",
            String(repeating: "A", count: 76) + "AB==",
            "A",
        ]
    }

    @Test(arguments: malformed)
    func truncatedOrNonBase64IsMalformed(text: String) throws {
        #expect(Self.sealer.open(try #require(TempID(text))) == .malformed)
    }

    @Test func keysRotatedOutStillOpenUntilPruned() throws {
        var ring = KeyRing.generate(at: sampleTime)
        let old = try TempIDSealer(keyRing: ring).seal(user: Self.user, validity: Self.validity)
        ring.rotate(at: sampleTime + 86_400)
        let rotated = TempIDSealer(keyRing: ring)
        #expect(rotated.open(old) == .opened(user: Self.user, validity: Self.validity))
        let new = try rotated.seal(user: "bob", validity: Self.validity)
        #expect(try Self.bytes(new)[0] == 2)
        #expect(ring.prune(retiredBefore: sampleTime + 86_401).map(\.id) == [1])
        let pruned = TempIDSealer(keyRing: ring)
        #expect(pruned.open(old) == .unknownKey(id: 1))
        #expect(pruned.open(new) == .opened(user: "bob", validity: Self.validity))
    }

    @Test func batchOf100HasContiguousWindowsAndDistinctTempIDs() throws {
        let batch = try Self.sealer.sealBatch(user: Self.user, count: 100, startingAt: sampleTime, lifetime: 900)
        #expect(batch.count == 100)
        #expect(Set(batch.map(\.tempID)).count == 100)
        #expect(batch.first?.validity.start == sampleTime)
        #expect(batch.last?.validity.expiry == sampleTime + 100 * 900 - 1)
        for (index, issued) in batch.enumerated() {
            let (tempID, validity) = (issued.tempID, issued.validity)
            #expect(validity.start == sampleTime + Int64(index) * 900)
            #expect(validity.expiry == validity.start + 899)
            if index > 0 { #expect(batch[index - 1].validity.expiry + 1 == validity.start) }
            #expect(Self.sealer.open(tempID) == .opened(user: Self.user, validity: validity))
        }
    }

    @Test func emptyBatchIsEmpty() throws {
        #expect(try Self.sealer.sealBatch(user: Self.user, count: 0, startingAt: sampleTime, lifetime: 900).isEmpty)
    }

    @Test(arguments: [(-1, Int64(900)), (10, 0), (10, -5), (2, Int64.max)])
    func invalidBatchesAreRefused(count: Int, lifetime: Int64) {
        #expect(throws: SealError.invalidBatch(count: count, lifetime: lifetime)) {
            try Self.sealer.sealBatch(user: Self.user, count: count, startingAt: sampleTime, lifetime: lifetime)
        }
    }

    @Test(arguments: ["1234567890123456789012", "éééééééééé12", "a very long user name indeed"])
    func usersLongerThan21BytesAreRefused(user: String) {
        let error = #expect(throws: SealError.self) { try Self.sealer.seal(user: user, validity: Self.validity) }
        #expect(error == .userTooLong(byteCount: user.utf8.count))
        #expect(error?.description.contains("at most 21") == true)
    }

    @Test func emptyUserAndNULAreRefused() {
        #expect(throws: SealError.emptyUser) { try Self.sealer.seal(user: "", validity: Self.validity) }
        #expect(throws: SealError.userContainsNUL) { try Self.sealer.seal(user: "a\u{0}b", validity: Self.validity) }
    }

    @Test func timesMustFit32BitsAndBeOrdered() {
        let before1970 = ValidityWindow(start: Timestamp(secondsSinceEpoch: -1), expiry: sampleTime)
        #expect(throws: SealError.timeOutOfRange(before1970.start)) {
            try Self.sealer.seal(user: Self.user, validity: before1970)
        }
        let after2106 = ValidityWindow(start: sampleTime, expiry: Timestamp(secondsSinceEpoch: 1 << 32))
        #expect(throws: SealError.timeOutOfRange(after2106.expiry)) {
            try Self.sealer.seal(user: Self.user, validity: after2106)
        }
        let backwards = ValidityWindow(start: sampleTime, expiry: sampleTime - 1)
        #expect(throws: SealError.expiryBeforeStart(backwards)) {
            try Self.sealer.seal(user: Self.user, validity: backwards)
        }
    }
}
