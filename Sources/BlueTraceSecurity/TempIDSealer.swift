import BlueTraceDomain
import Crypto
import Foundation

/// Seals a user and a validity window into a TempID only the server can open, as OpenTrace does, but with a random
/// nonce, an authenticated protocol version and a key id.
///
/// The plaintext is OpenTrace's 29 bytes: the user's UTF-8 right-padded with NUL to 21 bytes, then start and expiry
/// as 4-byte big-endian Unix seconds. It is sealed with AES-256-GCM under the current key's `.tempID` key, with a
/// 12-byte random nonce and the associated data `bluetrace-tempid-v1`. The TempID is standard padded base64 of
/// key id (1) ‖ nonce (12) ‖ ciphertext (29) ‖ tag (16): 58 bytes, 80 characters.
///
/// A sealer is a snapshot of a key ring: make a new one after rotating or pruning.
public struct TempIDSealer: Sendable {
    /// The number of characters in a sealed TempID.
    public static let sealedLength = 80
    /// The number of bytes a sealed TempID decodes to.
    static let sealedByteCount = 58
    /// The most UTF-8 bytes a user may have.
    public static let maximumUserByteCount = 21
    /// The number of bytes in a nonce.
    static let nonceByteCount = AESGCMKey.nonceByteCount
    /// Where the nonce sits in a sealed TempID's bytes (after the key id); the box (ciphertext ‖ tag) follows it.
    private static let nonceOffsets = 1..<(1 + nonceByteCount)
    /// The number of plaintext bytes: user, start, expiry.
    static let plaintextByteCount = 29
    /// The associated data that binds every TempID to this protocol version.
    static let associatedData = Array("bluetrace-tempid-v1".utf8)

    /// The id of the key new TempIDs are sealed with.
    private let currentKeyID: UInt8
    /// The `.tempID` key of every key in the ring, by key id.
    private let keys: [UInt8: SymmetricKey]
    /// The same keys set up once each for BoringSSL, by key id (all `nil` where the platform has no such contexts):
    /// sealing or opening through one costs a fraction of `AES.GCM`'s, which sets the key up on every call.
    private let prepared: [AESGCMKey?]
    /// Where batch nonces come from.
    private let nonces = NonceSequence()

    /// Creates a sealer that seals with the ring's current key and opens with any key in the ring.
    public init(keyRing: KeyRing) {
        self.init(keyRing: keyRing, preparingKeys: true)
    }

    /// Creates a sealer; with `preparingKeys` false it seals and opens through swift-crypto's `AES.GCM` alone, as it
    /// does where keys cannot be prepared (tests check that the two ways agree).
    package init(keyRing: KeyRing, preparingKeys: Bool) {
        currentKeyID = keyRing.current.id
        keys = Dictionary(uniqueKeysWithValues: keyRing.keys.map { ($0.id, $0.derivedKey(for: .tempID)) })
        var prepared = [AESGCMKey?](repeating: nil, count: 256)
        if preparingKeys {
            for (id, key) in keys { prepared[Int(id)] = AESGCMKey(key) }
        }
        self.prepared = prepared
    }

    /// Whether it seals and opens through keys set up once (on Linux, always; elsewhere through `AES.GCM`).
    package var preparesKeys: Bool { prepared.contains { $0 != nil } }

    /// Seals `user` (1–21 UTF-8 bytes, no NUL) and `validity` (times within 0…2^32 − 1, start ≤ expiry) into a fresh
    /// TempID; sealing the same input twice gives different TempIDs.
    public func seal(user: String, validity: ValidityWindow) throws(SealError) -> TempID {
        let nonce = AES.GCM.Nonce()
        return try seal(user: user, validity: validity) { bytes in
            nonce.withUnsafeBytes { bytes.copyMemory(from: $0) }
        }
    }

    /// Seals `user` and `validity` under the nonce `writeNonce` writes into the 12 bytes it is given.
    private func seal(
        user: String, validity: ValidityWindow, nonce writeNonce: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(SealError) -> TempID {
        let userByteCount = user.utf8.count
        guard userByteCount > 0 else { throw .emptyUser }
        guard userByteCount <= Self.maximumUserByteCount else { throw .userTooLong(byteCount: userByteCount) }
        guard !user.utf8.contains(0) else { throw .userContainsNUL }
        guard let start = UInt32(exactly: validity.start.secondsSinceEpoch) else {
            throw .timeOutOfRange(validity.start)
        }
        guard let expiry = UInt32(exactly: validity.expiry.secondsSinceEpoch) else {
            throw .timeOutOfRange(validity.expiry)
        }
        guard start <= expiry else { throw .expiryBeforeStart(validity) }
        let keyID = currentKeyID
        // Key id ‖ nonce ‖ ciphertext ‖ tag, and the plaintext beside them: written in place, in one scratch buffer.
        let encoded: String? = withUnsafeTemporaryAllocation(
            byteCount: Self.sealedByteCount + Self.plaintextByteCount, alignment: 8
        ) { scratch in
            let sealed = UnsafeMutableRawBufferPointer(rebasing: scratch[..<Self.sealedByteCount])
            let plaintext = UnsafeMutableRawBufferPointer(rebasing: scratch[Self.sealedByteCount...])
            // The user's bytes, NUL up to 21, then the two big-endian times.
            plaintext.initializeMemory(as: UInt8.self, repeating: 0)
            var offset = 0
            for byte in user.utf8 {
                plaintext[offset] = byte
                offset += 1
            }
            plaintext.storeBytes(of: start.bigEndian, toByteOffset: Self.maximumUserByteCount, as: UInt32.self)
            plaintext.storeBytes(of: expiry.bigEndian, toByteOffset: Self.maximumUserByteCount + 4, as: UInt32.self)
            sealed[0] = keyID
            let nonce = UnsafeMutableRawBufferPointer(rebasing: sealed[Self.nonceOffsets])
            writeNonce(nonce)
            let box = UnsafeMutableRawBufferPointer(rebasing: sealed[Self.nonceOffsets.upperBound...])
            guard seal(UnsafeRawBufferPointer(plaintext), keyID: keyID, nonce: UnsafeRawBufferPointer(nonce), into: box)
            else { return nil }
            return Base64.encodePadded(UnsafeRawBufferPointer(sealed))
        }
        guard let encoded, let tempID = TempID(encoded) else { throw .encryptionFailed }
        return tempID
    }

    /// Seals `plaintext` under key `keyID` into `box` (ciphertext ‖ tag): through its prepared key if it has one, else
    /// through `AES.GCM`. `false` if the key is not in the ring or the cipher refused.
    private func seal(
        _ plaintext: UnsafeRawBufferPointer, keyID: UInt8, nonce: UnsafeRawBufferPointer,
        into box: UnsafeMutableRawBufferPointer
    ) -> Bool {
        if let key = prepared[Int(keyID)] {
            return Self.associatedData.withUnsafeBytes {
                key.seal(plaintext, nonce: nonce, associatedData: $0, into: box)
            }
        }
        guard let key = keys[keyID], let nonce = try? AES.GCM.Nonce(data: nonce),
            let sealedBox = try? AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: Self.associatedData),
            sealedBox.ciphertext.count + sealedBox.tag.count == box.count
        else { return false }
        box.copyBytes(from: sealedBox.ciphertext + sealedBox.tag)
        return true
    }

    /// Seals `count` back-to-back TempIDs for `user`, like OpenTrace's batch of 100: TempID `i` is valid from
    /// `start + i·lifetime` to `start + (i+1)·lifetime − 1`.
    public func sealBatch(
        user: String, count: Int, startingAt start: Timestamp, lifetime: Int64
    ) throws(SealError) -> [IssuedTempID] {
        let span = Int64(count).multipliedReportingOverflow(by: lifetime)
        guard count >= 0, lifetime >= 1, !span.overflow,
            !start.secondsSinceEpoch.addingReportingOverflow(span.partialValue).overflow
        else { throw .invalidBatch(count: count, lifetime: lifetime) }
        var batch: [IssuedTempID] = []
        batch.reserveCapacity(count)
        for index in 0..<count {
            let windowStart = start + Int64(index) * lifetime
            let validity = ValidityWindow(start: windowStart, expiry: windowStart + (lifetime - 1))
            let tempID = try seal(user: user, validity: validity) { nonces.next(into: $0) }
            batch.append(IssuedTempID(tempID: tempID, validity: validity))
        }
        return batch
    }

    /// Opens `tempID`: the user and validity it was sealed with, or why it cannot be opened.
    public func open(_ tempID: TempID) -> SealedTempIDVerdict {
        guard tempID.utf8Count == Self.sealedLength else { return .malformed }
        var text = tempID.rawValue
        // Decoded and opened in one scratch buffer (sealed bytes, then the plaintext): nothing is allocated but the
        // user's string, which is small enough to live inline.
        let verdict: SealedTempIDVerdict? = text.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(byteCount: Self.sealedByteCount + Self.plaintextByteCount, alignment: 8) {
                scratch in
                let sealed = UnsafeMutableRawBufferPointer(rebasing: scratch[..<Self.sealedByteCount])
                let plaintext = UnsafeMutableRawBufferPointer(rebasing: scratch[Self.sealedByteCount...])
                guard Base64.decodedByteCount(ofPadded: utf8) == Self.sealedByteCount,
                    Base64.decodePadded(utf8, into: sealed)
                else { return .malformed }
                let keyID = sealed[0]
                guard keys[keyID] != nil else { return .unknownKey(id: keyID) }
                let nonce = UnsafeRawBufferPointer(rebasing: sealed[Self.nonceOffsets])
                let box = UnsafeRawBufferPointer(rebasing: sealed[Self.nonceOffsets.upperBound...])
                guard open(box, keyID: keyID, nonce: nonce, into: plaintext),
                    let (user, start, expiry) = Self.contents(of: UnsafeRawBufferPointer(plaintext))
                else { return nil }
                return .opened(
                    user: user,
                    validity: ValidityWindow(
                        start: Timestamp(secondsSinceEpoch: Int64(start)),
                        expiry: Timestamp(secondsSinceEpoch: Int64(expiry))))
            }
        }
        return verdict ?? .failedDecryption
    }

    /// Opens `box` (ciphertext ‖ tag) under key `keyID` into `plaintext`: through its prepared key if it has one, else
    /// through `AES.GCM`. `false` when the box is not authentic.
    private func open(
        _ box: UnsafeRawBufferPointer, keyID: UInt8, nonce: UnsafeRawBufferPointer,
        into plaintext: UnsafeMutableRawBufferPointer
    ) -> Bool {
        if let key = prepared[Int(keyID)] {
            return Self.associatedData.withUnsafeBytes {
                key.open(box, nonce: nonce, associatedData: $0, into: plaintext)
            }
        }
        let tagStart = box.count - AESGCMKey.tagByteCount
        guard let key = keys[keyID], tagStart >= 0, let nonce = try? AES.GCM.Nonce(data: nonce),
            let sealedBox = try? AES.GCM.SealedBox(
                nonce: nonce, ciphertext: box[..<tagStart], tag: box[tagStart...]),
            let opened = try? AES.GCM.open(sealedBox, using: key, authenticating: Self.associatedData),
            opened.count == plaintext.count
        else { return false }
        plaintext.copyBytes(from: opened)
        return true
    }

    /// The user and the two times an authentic plaintext holds: the user's bytes up to their zero padding, then the
    /// two big-endian times; `nil` when it holds no valid user (it was then not sealed by this program).
    private static func contents(of plaintext: UnsafeRawBufferPointer) -> (user: String, start: UInt32, expiry: UInt32)?
    {
        var userCount = maximumUserByteCount
        while userCount > 0, plaintext[userCount - 1] == 0 { userCount -= 1 }
        let userBytes = UnsafeRawBufferPointer(rebasing: plaintext[0..<userCount]).assumingMemoryBound(to: UInt8.self)
        guard userCount > 0, !userBytes.contains(0) else { return nil }
        let user: String? =
            userBytes.allSatisfy { $0 < 0x80 }
            ? String(decoding: userBytes, as: UTF8.self) : String(validating: userBytes, as: UTF8.self)
        guard let user else { return nil }
        let start = UInt32(bigEndian: plaintext.loadUnaligned(fromByteOffset: maximumUserByteCount, as: UInt32.self))
        let expiry = UInt32(
            bigEndian: plaintext.loadUnaligned(fromByteOffset: maximumUserByteCount + 4, as: UInt32.self))
        return (user, start, expiry)
    }
}

/// What opening a sealed TempID found.
public enum SealedTempIDVerdict: Hashable, Sendable {
    /// The TempID is authentic: it was sealed for `user`, valid during `validity`.
    case opened(user: String, validity: ValidityWindow)
    /// The TempID has the right shape but is not authentic: tampered, forged, or sealed for another protocol version.
    case failedDecryption
    /// The TempID names a key this sealer's ring does not hold: one added since (another server instance or
    /// `bluetrace keys rotate` changed the shared key file), one pruned, or a forged id.
    case unknownKey(id: UInt8)
    /// The TempID is not a sealed TempID at all: not base64, or the wrong length.
    case malformed
}

/// Why a TempID could not be sealed.
public enum SealError: Error, Hashable, CustomStringConvertible {
    /// The user is the empty string.
    case emptyUser
    /// The user's UTF-8 is longer than 21 bytes.
    case userTooLong(byteCount: Int)
    /// The user contains a NUL character, which is reserved for padding.
    case userContainsNUL
    /// A validity time is before 1970 or after 2106 (does not fit 32 bits).
    case timeOutOfRange(Timestamp)
    /// The window's expiry is before its start.
    case expiryBeforeStart(ValidityWindow)
    /// A batch was asked for with a negative count, a lifetime under one second, or a span that overflows.
    case invalidBatch(count: Int, lifetime: Int64)
    /// AES-GCM refused to seal (should not happen).
    case encryptionFailed

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .emptyUser:
            "the user is empty; pass the user's identifier (1–\(TempIDSealer.maximumUserByteCount) UTF-8 bytes)"
        case .userTooLong(let byteCount):
            "the user is \(byteCount) UTF-8 bytes long, but a sealed TempID holds at most "
                + "\(TempIDSealer.maximumUserByteCount); use a shorter identifier"
        case .userContainsNUL:
            "the user contains a NUL character; remove it (NUL pads the user inside the TempID)"
        case .timeOutOfRange(let time):
            "the time \(time) does not fit a sealed TempID (Unix seconds 0…\(UInt32.max)); check the clock"
        case .expiryBeforeStart(let validity):
            "the validity window ends (\(validity.expiry)) before it starts (\(validity.start)); pass start ≤ expiry"
        case .invalidBatch(let count, let lifetime):
            "cannot seal a batch of \(count) TempIDs living \(lifetime) s each; pass a count of 0 or more and a "
                + "lifetime of at least 1 s"
        case .encryptionFailed:
            "AES-GCM could not seal the TempID; this is a bug or a broken crypto library, so report it"
        }
    }
}
