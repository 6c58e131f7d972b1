/// A temporary identifier a phone broadcasts instead of its phone number.
///
/// The assignment's scheme is 20 decimal digits; other schemes (sealed, base64) use longer tokens. A TempID is always
/// 1–256 printable, non-space ASCII characters, so it can stand as one field in every text file and message.
public struct TempID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The number of digits in the assignment's TempIDs.
    public static let decimalLength = 20
    /// The longest TempID accepted anywhere.
    public static let maximumLength = 256

    /// How a TempID is held: a 20-digit one as the numbers its two halves make (copied, compared and hashed without
    /// touching the heap, which tracing a million entries does many times over), any other as its text.
    @usableFromInline enum Storage: Sendable {
        case decimal(high: UInt64, low: UInt64)
        case text(String)
    }

    /// This TempID, held as `Storage` says (readable from other modules' inlined code: comparing, hashing and reading
    /// TempIDs is inlined where tracing sorts and hashes a million of them).
    @usableFromInline let storage: Storage

    /// The identifier as it is written and sent (made anew for a 20-digit TempID: use `decimalHalves` on hot paths).
    @inlinable public var rawValue: String {
        switch storage {
        case .decimal(let high, let low): Self.text(ofHalves: (high, low))
        case .text(let text): text
        }
    }

    /// How many bytes its text takes (known without making it).
    @inlinable public var utf8Count: Int {
        switch storage {
        case .decimal: Self.decimalLength
        case .text(let text): text.utf8.count
        }
    }

    /// Accepts `text` when it is 1–256 printable ASCII characters without spaces; `nil` otherwise.
    public init?<S: StringProtocol>(_ text: S) {
        var string = String(text)
        let valid = string.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= Self.maximumLength else { return false }
            for byte in bytes
            where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") {
                return false
            }
            return true
        }
        guard valid else { return nil }
        self.init(knownValid: string)
    }

    /// A TempID of `text` that was a TempID's text before (a wallet's, made again): not checked again.
    init(knownValid text: String) {
        if let halves = Self.decimalHalves(of: text) {
            storage = .decimal(high: halves.high, low: halves.low)
        } else {
            storage = .text(text)
        }
    }

    /// The 20-digit TempID whose text is exactly `utf8` (read straight from a buffer, made without a `String`); `nil`
    /// when those bytes are anything else.
    public init?(decimalUTF8 utf8: UnsafeRawBufferPointer) {
        guard utf8.count == Self.decimalLength,
            let halves = Self.decimalHalves(ofTwentyBytes: utf8.assumingMemoryBound(to: UInt8.self))
        else { return nil }
        storage = .decimal(high: halves.high, low: halves.low)
    }

    /// Bits mixed from the TempID, cheap to make, for the small tables that forget a TempID when another lands in its
    /// slot: a 20-digit TempID's halves mixed; for one of 16 characters or more, eight of its characters (a sealed
    /// TempID's encode its random nonce) mixed; for a shorter one, its hash. Not for a dictionary: anyone can make
    /// texts whose eight characters collide, and a table that forgets only does more work for them.
    public var mixedBits: UInt64 {
        switch storage {
        case .decimal(let high, let low):
            return (low ^ (high &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        case .text(let text):
            let word =
                text.utf8.withContiguousStorageIfAvailable { utf8 -> UInt64? in
                    guard utf8.count >= 16 else { return nil }
                    return UnsafeRawBufferPointer(utf8).loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                } ?? nil
            return (word ?? UInt64(truncatingIfNeeded: text.hashValue)) &* 0xBF58_476D_1CE4_E5B9
        }
    }

    /// Whether this is a TempID of the assignment's scheme: exactly 20 decimal digits.
    @inlinable public var isDecimal: Bool {
        if case .decimal = storage { return true }
        return false
    }

    /// A 20-digit TempID as the numbers its first and last 10 digits make; `nil` for any other TempID. The pairs sort
    /// in the same order as the texts, so they can stand for them where comparing strings would cost too much.
    @inlinable public var decimalHalves: (high: UInt64, low: UInt64)? {
        if case .decimal(let high, let low) = storage { return (high, low) }
        return nil
    }

    /// The halves of `text` if it is a 20-digit TempID (`decimalHalves`), without making a `TempID` of it first.
    public static func decimalHalves(of text: String) -> (high: UInt64, low: UInt64)? {
        // A native string's length is known without reading it, and its bytes are contiguous: most TempIDs are
        // decided without a loop, the rest by one pass over a buffer (tracing asks this of every uploaded entry).
        guard text.utf8.count == decimalLength else { return nil }
        return text.utf8.withContiguousStorageIfAvailable { decimalHalves(ofTwentyBytes: $0) }
            ?? decimalHalves(ofUTF8: text.utf8)
    }

    /// `decimalHalves(ofUTF8:)` for exactly 20 bytes in a buffer: two loops of ten, without a length check per byte.
    private static func decimalHalves(ofTwentyBytes bytes: UnsafeBufferPointer<UInt8>) -> (high: UInt64, low: UInt64)? {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<decimalLength / 2 {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            high = high &* 10 &+ UInt64(digit)
        }
        for index in decimalLength / 2..<decimalLength {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            low = low &* 10 &+ UInt64(digit)
        }
        return (high, low)
    }

    /// The halves of the 20-digit TempID whose text is `utf8`, or `nil` when it is not one: the same rule as
    /// `decimalHalves`, for text read straight from a buffer (a database column) without making a `String`.
    public static func decimalHalves(ofUTF8 utf8: some Sequence<UInt8>) -> (high: UInt64, low: UInt64)? {
        var halves: (high: UInt64, low: UInt64) = (0, 0)
        var count = 0
        for byte in utf8 {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10, count < decimalLength else { return nil }
            if count < decimalLength / 2 {
                halves.high = halves.high * 10 + UInt64(digit)
            } else {
                halves.low = halves.low * 10 + UInt64(digit)
            }
            count += 1
        }
        return count == decimalLength ? halves : nil
    }

    /// A fresh 20-digit TempID drawn uniformly from `generator` (use a cryptographically secure one).
    public static func randomDecimal<G: RandomNumberGenerator>(using generator: inout G) -> TempID {
        // Two uniform halves of 10 digits each (`decimalHalves` read back): 10^20 values, two draws from the
        // generator instead of twenty.
        TempID(
            decimalHalves: (
                high: UInt64.random(in: 0..<halfLimit, using: &generator),
                low: UInt64.random(in: 0..<halfLimit, using: &generator)
            ))!
    }

    /// One more than the largest half: each half is 10 digits.
    private static let halfLimit: UInt64 = 10_000_000_000

    /// The 20-digit TempID whose `decimalHalves` are `halves` (each written with its leading zeros); `nil` when a half
    /// has more than 10 digits.
    public init?(decimalHalves halves: (high: UInt64, low: UInt64)) {
        guard halves.high < Self.halfLimit, halves.low < Self.halfLimit else { return nil }
        storage = .decimal(high: halves.high, low: halves.low)
    }

    /// The 20 digits of `halves`, each half written with its leading zeros.
    @usableFromInline static func text(ofHalves halves: (high: UInt64, low: UInt64)) -> String {
        String(unsafeUninitializedCapacity: decimalLength) { buffer in
            var (high, low) = halves
            for index in stride(from: decimalLength - 1, through: 0, by: -1) {
                if index >= decimalLength / 2 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(low % 10)
                    low /= 10
                } else {
                    buffer[index] = UInt8(ascii: "0") + UInt8(high % 10)
                    high /= 10
                }
            }
            return decimalLength
        }
    }

    public var description: String { rawValue }

    /// The order of the texts. Two TempIDs of one kind are compared as they are held: two 20-digit ones by their
    /// halves, which sort the same way, two others by their texts (without making either anew: sorting a contact's
    /// sealed TempIDs must cost no more than sorting strings); a 20-digit one and another by their texts.
    @inlinable public static func < (lhs: TempID, rhs: TempID) -> Bool {
        switch lhs.storage {
        case .decimal(let leftHigh, let leftLow):
            if case .decimal(let rightHigh, let rightLow) = rhs.storage {
                return (leftHigh, leftLow) < (rightHigh, rightLow)
            }
        case .text(let left):
            if case .text(let right) = rhs.storage { return left < right }
        }
        return lhs.rawValue < rhs.rawValue
    }

    /// Equal when they are the same TempID: a 20-digit one is always held as its halves, any other as its text, so
    /// the two are compared as they are held.
    @inlinable public static func == (lhs: TempID, rhs: TempID) -> Bool {
        switch lhs.storage {
        case .decimal(let leftHigh, let leftLow):
            if case .decimal(let rightHigh, let rightLow) = rhs.storage {
                return leftHigh == rightHigh && leftLow == rightLow
            }
        case .text(let left):
            if case .text(let right) = rhs.storage { return left == right }
        }
        return false
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        switch storage {
        case .decimal(let high, let low):
            hasher.combine(high)
            hasher.combine(low)
        case .text(let text):
            hasher.combine(text)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = TempID(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a TempID (1–256 printable ASCII characters without spaces)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The record that ties a TempID to the user it was issued to, and when it is valid.
public struct TempIDGrant: Hashable, Sendable, CarriesIssuedTempID {
    /// The user (phone number) the TempID was issued to.
    public var user: String
    /// The TempID and when it is valid.
    public var issued: IssuedTempID

    /// Creates a grant.
    public init(user: String, issued: IssuedTempID) {
        self.user = user
        self.issued = issued
    }

    /// Creates a grant of `tempID`, valid during `validity`.
    public init(user: String, tempID: TempID, validity: ValidityWindow) {
        self.init(user: user, issued: IssuedTempID(tempID: tempID, validity: validity))
    }
}

/// How long TempIDs live: the one place the assignment's 15-minute rule is written down.
public struct TempIDPolicy: Sendable, Hashable {
    /// BlueTrace's and the assignment's TempID lifetime: 15 minutes.
    public static let standardLifetime: Int64 = 900

    /// Seconds from the first valid second to one past the last.
    public var lifetime: Int64

    /// Creates a policy; `lifetime` must be at least one second.
    public init(lifetime: Int64 = TempIDPolicy.standardLifetime) {
        precondition(lifetime >= 1, "a TempID must live at least one second")
        self.lifetime = lifetime
    }

    /// The validity of a TempID issued at `time`: from `time` to `time + lifetime − 1 s`, as the sample files show
    /// (issued 17:45:06, expires 18:00:05).
    public func validity(issuedAt time: Timestamp) -> ValidityWindow {
        ValidityWindow(start: time, expiry: time + (lifetime - 1))
    }
}
