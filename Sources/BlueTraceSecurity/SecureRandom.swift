import Crypto
import Synchronization

/// Cryptographically secure random bytes.
enum SecureRandom {
    /// `count` bytes from the operating system's secure source (through BoringSSL's `RAND_bytes`).
    static func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}

/// Unique 12-byte GCM nonces without a system call each: NIST SP 800-38D's deterministic construction, a random
/// 8-byte field fixed per sequence followed by a 4-byte counter. A fresh random field is drawn before the counter
/// wraps, so a nonce never repeats within a sequence, and two sequences share a field with probability 2^-64.
/// (Random 12-byte nonces are capped at 2^32 per key; this construction is not.)
final class NonceSequence: Sendable {
    private let state = Mutex<(field: UInt64, counter: UInt32)>((NonceSequence.randomField(), 0))

    /// The next nonce, written into the first 12 bytes of `nonce`.
    func next(into nonce: UnsafeMutableRawBufferPointer) {
        let (field, counter) = state.withLock { state in
            if state.counter == .max { state = (Self.randomField(), 0) }
            state.counter += 1
            return state
        }
        nonce.storeBytes(of: field, toByteOffset: 0, as: UInt64.self)
        nonce.storeBytes(of: counter.bigEndian, toByteOffset: 8, as: UInt32.self)
    }

    /// A fresh random 8-byte field.
    private static func randomField() -> UInt64 {
        SecureRandom.bytes(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }
}
