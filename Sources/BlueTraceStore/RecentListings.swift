import BlueTraceDomain

/// The TempIDs listed last for contacts heard through many, in a small table indexed by the TempID and the contact's
/// position: a TempID found there is already in that contact's list and is not listed again. It forgets a pair when
/// another lands in its slot, and a TempID forgotten is only listed twice, which `UploadRecord.Builder.sortTempIDs`
/// drops; so it costs the same however many TempIDs a contact has, without hashing their texts (a set of each
/// contact's sealed TempIDs cost a seventh of judging a million of them, round 14). Only traced TempIDs are listed,
/// and those were issued at random (sealed ones under a random nonce), so no upload can crowd them into a few slots.
struct RecentListings: Sendable {
    /// Slots in the table: the TempIDs of a few dozen contacts heard through a hundred each.
    static let slotCount = 1 << slotBits
    /// The bits of a slot's number.
    static let slotBits = 12

    private var positions = [Int32](repeating: -1, count: slotCount)
    private var tempIDs = [TempID?](repeating: nil, count: slotCount)

    /// Whether `tempID` is noted for the contact at `position`; notes it if it is not (`true` when it was new).
    mutating func note(_ tempID: TempID, forContactAt position: Int32) -> Bool {
        let mixed = (tempID.mixedBits ^ UInt64(UInt32(bitPattern: position))) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: mixed >> (64 - Self.slotBits))
        if positions[slot] == position, tempIDs[slot] == tempID { return false }
        positions[slot] = position
        tempIDs[slot] = tempID
        return true
    }
}
