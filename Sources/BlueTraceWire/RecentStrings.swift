import Foundation

/// The strings read last, in a small table indexed by a hash of their bytes, so that a string read again is the same
/// string, not a new one: an upload names each TempID it heard many times over (a phone logs a neighbour's TempID
/// beacon after beacon), and a 20-digit TempID is past the 15 bytes a string holds without an allocation of its own
/// (64 bytes of heap each: 64 MiB for a million entries). A string is forgotten when another lands in its slot, so the
/// table costs the same whether an upload names a hundred TempIDs or a million.
struct RecentStrings {
    /// The bits of a slot's number.
    static let slotBits = 10

    private var slots = [String?](repeating: nil, count: 1 << slotBits)

    /// The string of the ASCII bytes `utf8`: the one in the table if it is the same text, else a new one, kept.
    mutating func string(of utf8: UnsafeRawBufferPointer) -> String {
        // Short strings are held inline: nothing to share.
        guard utf8.count > 15 else { return String(decoding: utf8.assumingMemoryBound(to: UInt8.self), as: UTF8.self) }
        let slot = Self.slot(of: utf8)
        if var kept = slots[slot] {
            let same = kept.withUTF8 {
                $0.count == utf8.count && memcmp($0.baseAddress!, utf8.baseAddress!, utf8.count) == 0
            }
            if same { return kept }
        }
        let made = String(decoding: utf8.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        slots[slot] = made
        return made
    }

    /// The slot of a string of at least 16 bytes: a hash of its first 16 and last 8 (all of a 20-digit TempID).
    private static func slot(of utf8: UnsafeRawBufferPointer) -> Int {
        let first = utf8.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let second = utf8.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let last = utf8.loadUnaligned(fromByteOffset: utf8.count - 8, as: UInt64.self)
        let mixed = (((first &* 0x9E37_79B9_7F4A_7C15) ^ second) &* 0xBF58_476D_1CE4_E5B9) ^ last
        return Int(truncatingIfNeeded: (mixed &* 0x94D0_49BB_1331_11EB) >> (64 - slotBits))
    }
}
