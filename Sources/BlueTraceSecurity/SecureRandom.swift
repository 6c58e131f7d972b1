import Crypto

/// Cryptographically secure random bytes, many at once (one draw for a whole batch of nonces).
enum SecureRandom {
    /// `count` bytes from the operating system's secure source (through BoringSSL's `RAND_bytes`).
    static func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}
