import CAESGCM
import Crypto

/// An AES-256-GCM key set up once (its key schedule and GHASH table) for every seal and open after, or `nil` where the
/// platform offers no such context (then swift-crypto's `AES.GCM` does the work, setting the key up per call).
///
/// Safe to share across threads: the context is written only by `init` and freed only by `deinit`; in between,
/// BoringSSL reads it and never writes it (`EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` take it `const`, and keep
/// their working state on the caller's stack), so concurrent seals and opens never race.
final class AESGCMKey: @unchecked Sendable {
    private let context: OpaquePointer

    /// The length, in bytes, of a nonce.
    static let nonceByteCount = Int(BLUETRACE_AES_GCM_NONCE_LENGTH)
    /// The length, in bytes, of a tag.
    static let tagByteCount = Int(BLUETRACE_AES_GCM_TAG_LENGTH)

    /// Prepares `key`, which must be 256 bits; `nil` when it is not, or when this platform has no prepared contexts.
    init?(_ key: SymmetricKey) {
        guard key.bitCount == 256 else { return nil }
        guard let context = key.withUnsafeBytes({ bytes in bluetrace_aes_gcm_new(bytes.baseAddress!) }) else {
            return nil
        }
        self.context = context
    }

    deinit {
        bluetrace_aes_gcm_free(context)
    }

    /// Seals `plaintext` under `nonce` (12 bytes), authenticating `associatedData`, into `out`: the ciphertext then the
    /// tag (`plaintext.count + 16` bytes). `false` if BoringSSL refused, which it does only for wrong lengths.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard nonce.count == Self.nonceByteCount, out.count == plaintext.count + Self.tagByteCount else { return false }
        return bluetrace_aes_gcm_seal(
            context, out.baseAddress!.assumingMemoryBound(to: UInt8.self),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
            plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), plaintext.count,
            associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), associatedData.count) == 1
    }

    /// Opens `sealed` (ciphertext then its 16-byte tag) under `nonce`, authenticating `associatedData`, writing the
    /// plaintext (`sealed.count − 16` bytes, at least one) into `out`; `false` when the box is not authentic.
    func open(
        _ sealed: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard nonce.count == Self.nonceByteCount, sealed.count == out.count + Self.tagByteCount,
            let sealedBytes = sealed.baseAddress, let outBytes = out.baseAddress
        else { return false }
        return bluetrace_aes_gcm_open(
            context, outBytes.assumingMemoryBound(to: UInt8.self),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), sealedBytes.assumingMemoryBound(to: UInt8.self),
            out.count, associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), associatedData.count) == 1
    }
}
