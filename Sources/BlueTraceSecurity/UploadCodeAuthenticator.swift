import BlueTraceDomain
import Crypto

/// Makes one-time upload codes and checks them against their stored MACs, under the server's key ring.
///
/// A code is never stored: only HMAC-SHA256(key, phone ‖ 0 ‖ code), with the key derived from the ring's master key
/// for `KeyPurpose.uploadCode` and its id kept beside it, so codes issued before a rotation still verify.
public struct UploadCodeAuthenticator: Sendable {
    private let keys: [UInt8: SymmetricKey]
    private let currentKeyID: UInt8
    private let policy: UploadCodePolicy

    /// An authenticator over every key of `keyRing`, issuing under its current key.
    public init(keyRing: KeyRing, policy: UploadCodePolicy = UploadCodePolicy()) {
        keys = Dictionary(uniqueKeysWithValues: keyRing.keys.map { ($0.id, $0.derivedKey(for: .uploadCode)) })
        currentKeyID = keyRing.current.id
        self.policy = policy
    }

    /// A fresh code for `phone` valid from `now` for `lifetime` seconds: the code to show the official once, and what
    /// the store keeps of it.
    public func issue(
        for phone: String, at now: Timestamp, lifetime: Int64
    ) -> (code: String, pending: PendingUploadCode) {
        var code = ""
        // Rejection sampling keeps every digit uniform: bytes 250–255 would favour 0–5.
        while code.count < policy.digits {
            for byte in SecureRandom.bytes(policy.digits) where byte < 250 && code.count < policy.digits {
                code.append(Character(String(byte % 10)))
            }
        }
        let pending = PendingUploadCode(
            keyID: currentKeyID, mac: mac(phone: phone, code: code, key: keys[currentKeyID]!), issuedAt: now,
            expiresAt: now + (lifetime - 1))
        return (code, pending)
    }

    /// Whether `code`, typed on `phone`, is the one behind `pending` (compared in constant time).
    public func matches(_ code: String, phone: String, _ pending: PendingUploadCode) -> Bool {
        guard let key = keys[pending.keyID] else { return false }
        let expected = mac(phone: phone, code: code, key: key)
        guard expected.count == pending.mac.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(expected, pending.mac) { difference |= left ^ right }
        return difference == 0
    }

    private func mac(phone: String, code: String, key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(phone.utf8) + [0] + Array(code.utf8), using: key))
    }
}
