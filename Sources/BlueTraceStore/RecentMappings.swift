/// The 20-digit TempIDs indexed since `TempIDIndex` last merged them into its sorted arrays: kept in the order they
/// came, and found through an open-addressing table of their positions.
///
/// A dictionary hashed every key with SipHash and cost a sixth of importing ten million mappings (docs/BENCHMARKS.md,
/// round 16). Keys here are TempIDs drawn at random (or an operator's own file), so their number itself, multiplied
/// by a constant, spreads them over the table; lookups of chosen keys (an upload's) cannot lengthen its probe runs,
/// which depend only on the keys stored, and the table is never more than half full.
struct RecentMappings: Sendable {
    private(set) var keys: [TempIDIndex.Key] = []
    private(set) var mappings: [TempIDIndex.Mapping] = []
    /// Per slot, the position of a key plus one (0: empty); a power of two at least twice the keys.
    private var slots: [UInt32] = []

    /// How many TempIDs it holds.
    var count: Int { keys.count }

    /// Whether it holds none.
    var isEmpty: Bool { keys.isEmpty }

    /// The mapping of `key`, if it holds it.
    func mapping(of key: TempIDIndex.Key) -> TempIDIndex.Mapping? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Self.slot(of: key, mask: mask)
        while slots[slot] != 0 {
            let position = Int(slots[slot] - 1)
            if keys[position] == key { return mappings[position] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds `key`, which it must not hold yet, with `mapping`.
    mutating func insert(_ key: TempIDIndex.Key, _ mapping: TempIDIndex.Mapping) {
        if 2 * (keys.count + 1) > slots.count { grow() }
        keys.append(key)
        mappings.append(mapping)
        place(keys.count - 1)
    }

    /// Forgets the keys in `removed`, and tells which of them it held.
    mutating func remove(_ removed: Set<TempIDIndex.Key>) -> Set<TempIDIndex.Key> {
        var found: Set<TempIDIndex.Key> = []
        var kept = 0
        for position in keys.indices {
            if removed.contains(keys[position]) {
                found.insert(keys[position])
            } else {
                keys[kept] = keys[position]
                mappings[kept] = mappings[position]
                kept += 1
            }
        }
        guard !found.isEmpty else { return found }
        keys.removeLast(keys.count - kept)
        mappings.removeLast(mappings.count - kept)
        rebuild(slotCount: slots.count)
        return found
    }

    /// Its TempIDs and their mappings sorted by key; it is left empty, its memory kept for the next ones.
    mutating func takeSorted() -> [(key: TempIDIndex.Key, mapping: TempIDIndex.Mapping)] {
        var sorted = zip(keys, mappings).map { (key: $0, mapping: $1) }
        sorted.sort { $0.key < $1.key }
        keys.removeAll(keepingCapacity: true)
        mappings.removeAll(keepingCapacity: true)
        for slot in slots.indices { slots[slot] = 0 }
        return sorted
    }

    /// Doubles the table (to 1,024 slots at first) and places every key again.
    private mutating func grow() {
        rebuild(slotCount: max(1_024, slots.count * 2))
    }

    /// Makes a table of `slotCount` empty slots and places every key in it.
    private mutating func rebuild(slotCount: Int) {
        slots = [UInt32](repeating: 0, count: slotCount)
        for position in keys.indices { place(position) }
    }

    /// Puts the key at `position` in the first free slot from its own.
    private mutating func place(_ position: Int) {
        let mask = slots.count - 1
        var slot = Self.slot(of: keys[position], mask: mask)
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = UInt32(position + 1)
    }

    /// The slot a key starts its search at: its 20-digit number (wrapped to 64 bits) times 2⁶⁴ divided by the golden
    /// ratio, the top bits taken (Fibonacci hashing).
    private static func slot(of key: TempIDIndex.Key, mask: Int) -> Int {
        let number = key.high &* 10_000_000_000 &+ key.low
        let mixed = number &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> UInt64(64 - (mask + 1).trailingZeroBitCount)) & mask
    }
}
