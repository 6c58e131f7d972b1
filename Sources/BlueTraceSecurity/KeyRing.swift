import BlueTraceDomain
import Crypto
import Foundation

/// What a key derived from a server master key is used for; each purpose gets its own AES-256 key.
public enum KeyPurpose: String, Sendable, CaseIterable {
    /// Sealing TempIDs.
    case tempID = "bluetrace tempid v1"
    /// Authenticating one-time upload codes (HMAC-SHA256).
    case uploadCode = "bluetrace upload code v1"
}

/// One server master key: 32 secret random bytes with a one-byte id and its lifetime.
public struct ServerKey: Sendable, Hashable {
    /// The length of a master key in bytes.
    public static let byteCount = 32
    /// The HKDF salt of every per-purpose key.
    static let derivationSalt = Array("bluetrace".utf8)

    /// The key's id, 1–255, written in front of everything it seals.
    public let id: UInt8
    /// When the key was made.
    public let created: Timestamp
    /// When the key stopped being the current key, or `nil` while it is current.
    public var retired: Timestamp?
    /// The secret master key.
    let material: SymmetricKey

    /// Creates a key from its parts; `material` must be `byteCount` bytes.
    init(id: UInt8, created: Timestamp, retired: Timestamp? = nil, material: SymmetricKey) {
        precondition(material.bitCount == Self.byteCount * 8, "a server key is 32 bytes")
        self.id = id
        self.created = created
        self.retired = retired
        self.material = material
    }

    /// A fresh key with 32 bytes from the system's secure random number generator.
    static func random(id: UInt8, at time: Timestamp) -> ServerKey {
        ServerKey(id: id, created: time, material: SymmetricKey(size: .bits256))
    }

    /// The AES-256 key for `purpose`: HKDF-SHA256(master, salt "bluetrace", info = the purpose's name, 32 bytes).
    public func derivedKey(for purpose: KeyPurpose) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: material, salt: Self.derivationSalt, info: Array(purpose.rawValue.utf8),
            outputByteCount: 32)
    }

    /// Keys are equal when id, times and secret material all match (the material compared in constant time).
    public static func == (lhs: ServerKey, rhs: ServerKey) -> Bool {
        lhs.id == rhs.id && lhs.created == rhs.created && lhs.retired == rhs.retired && lhs.material == rhs.material
    }

    /// Hashes the public parts only, so the secret never feeds a hash table.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(created)
        hasher.combine(retired)
    }
}

/// The server's master keys, oldest first; the newest is current and seals, older ones still open what they sealed.
public struct KeyRing: Sendable, Equatable {
    /// Every key, oldest first; never empty.
    public private(set) var keys: [ServerKey]

    /// Creates a ring from keys already checked to be non-empty with distinct ids, oldest first.
    init(keys: [ServerKey]) {
        precondition(!keys.isEmpty, "a key ring holds at least one key")
        precondition(Set(keys.map(\.id)).count == keys.count, "key ids are distinct")
        self.keys = keys
    }

    /// A ring with one fresh key, id 1, made at `time`.
    public static func generate(at time: Timestamp) -> KeyRing {
        KeyRing(keys: [ServerKey.random(id: 1, at: time)])
    }

    /// The newest key: the one new TempIDs and tokens are sealed with.
    public var current: ServerKey { keys[keys.count - 1] }

    /// Makes a fresh current key at `now` and retires the previous one at `now`; returns the new key.
    ///
    /// The new id follows the current one (255 wraps to 1, id 0 is never used), skipping ids still in the ring. In
    /// the unlikely case that all 255 ids are in use, the oldest key is dropped to free one.
    @discardableResult
    public mutating func rotate(at now: Timestamp) -> ServerKey {
        if keys.count == Int(UInt8.max) { keys.removeFirst() }
        let used = Set(keys.map(\.id))
        var id = current.id
        repeat { id = id == UInt8.max ? 1 : id + 1 } while used.contains(id)
        keys[keys.count - 1].retired = now
        let key = ServerKey.random(id: id, at: now)
        keys.append(key)
        return key
    }

    /// Drops the retired keys whose `retired` time is before `cutoff` and returns them; the current key is never
    /// dropped. Pass now − (TempID lifetime + retention) so every TempID still in a contact log can be opened.
    @discardableResult
    public mutating func prune(retiredBefore cutoff: Timestamp) -> [ServerKey] {
        let currentID = current.id
        var dropped: [ServerKey] = []
        keys.removeAll { key in
            guard key.id != currentID, let retired = key.retired, retired < cutoff else { return false }
            dropped.append(key)
            return true
        }
        return dropped
    }
}
