/// The position of each contact by phone number, for judging an upload: a phone is hashed once per entry that changes
/// contact, a million times for the largest uploads, so phones of up to 16 bytes (every E.164 number with its `+`) are
/// kept packed into two words beside their position in one open-addressed table, found with one multiply-and-shift
/// hash and, mostly, one cache line (a `[String: Int32]` hashes with SipHash and keeps its keys, values and occupancy
/// apart). Longer phones go to a dictionary.
struct PhonePositions: Sendable {
    /// A phone's bytes, packed: the first eight in `low`, the rest in `high`, 0xFF past its end.
    private struct Slot: Sendable {
        var low: UInt64
        var high: UInt64
        /// The phone's position, or -1 for an empty slot.
        var position: Int32
    }

    private static let empty = Slot(low: 0, high: 0, position: -1)
    private var slots = [Slot](repeating: empty, count: 1_024)
    /// Phones in `slots`.
    private var count = 0
    /// Phones longer than 16 bytes.
    private var others: [String: Int32] = [:]

    /// The position of `phone` if it has one; otherwise gives it `newPosition` and says it was added.
    mutating func position(of phone: String, orAdd newPosition: Int32) -> (position: Int32, added: Bool) {
        var phone = phone
        guard let (low, high) = phone.withUTF8(Self.packed) else {
            if let known = others[phone] { return (known, false) }
            others[phone] = newPosition
            return (newPosition, true)
        }
        let mask = slots.count - 1
        var index = Self.hash(low, high) & mask
        while slots[index].position >= 0 {
            if slots[index].low == low, slots[index].high == high { return (slots[index].position, false) }
            index = (index + 1) & mask
        }
        slots[index] = Slot(low: low, high: high, position: newPosition)
        count += 1
        // Kept at most half full, so that a search stops within a slot or two.
        if count * 2 > slots.count { grow() }
        return (newPosition, true)
    }

    /// Twice the slots, every phone placed again.
    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Self.empty, count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.position >= 0 {
            var index = Self.hash(slot.low, slot.high) & mask
            while slots[index].position >= 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }

    /// The bytes of a phone of at most 16 bytes as two words, the bytes past its end 0xFF (a byte UTF-8 never holds,
    /// so that no two phones share them); `nil` for a longer one.
    private static func packed(_ bytes: UnsafeBufferPointer<UInt8>) -> (low: UInt64, high: UInt64)? {
        guard bytes.count <= 16 else { return nil }
        var low = UInt64.max
        var high = UInt64.max
        for (offset, byte) in bytes.enumerated() {
            // Each byte starts as 0xFF: flipping the bits where they differ from `byte` leaves `byte`.
            if offset < 8 {
                low ^= UInt64(byte ^ 0xFF) << (offset * 8)
            } else {
                high ^= UInt64(byte ^ 0xFF) << ((offset - 8) * 8)
            }
        }
        return (low, high)
    }

    /// The two words mixed (phones differ mostly in their last digits, in either word).
    private static func hash(_ low: UInt64, _ high: UInt64) -> Int {
        var mixed = (low &* 0x9E37_79B9_7F4A_7C15) ^ (high &* 0xC2B2_AE3D_27D4_EB4F)
        mixed ^= mixed >> 29
        mixed &*= 0xBF58_476D_1CE4_E5B9
        mixed ^= mixed >> 32
        return Int(truncatingIfNeeded: mixed)
    }
}
