import BlueTraceDomain

/// People an upload traced, as one compact block: how the SQLite store keeps them (a row per upload, or per few
/// megabytes of contacts of a huge one) instead of a row per contact.
///
/// A row per contact cost most of storing a large upload: 100,000 contacts took 0.8–1.5 s to insert into their B-tree,
/// their TempIDs written out as text, against 0.2 s for the rest of the upload (docs/BENCHMARKS.md, round 12). They are
/// only ever read by upload (the contacts of an uploader's uploads), so nothing is lost by keeping them together.
///
/// Version 1, little-endian: the magic `BTC1`; the number of contacts (UInt32) and each contact as its phone (UInt16
/// length and UTF-8 bytes), its first and last encounter (Int64 each), its number of encounters (UInt64), the number of
/// its TempIDs (UInt32) and each TempID: a 20-digit one as the byte 0 and its two 10-digit halves (UInt64 each), a
/// padded base64 one (a sealed TempID) as the byte 2, the count (UInt8) and the bytes it encodes (since 2026-12-03,
/// which earlier readers refuse), any other as the byte 1 and its length (UInt16) and bytes. A contact with a 12-byte
/// phone number heard through ten 20-digit TempIDs takes 212 bytes; through ten sealed ones, 642.
package struct ContactBlock: Hashable, Sendable {
    /// The block's bytes.
    package let bytes: [UInt8]

    private static let magic: [UInt8] = Array("BTC1".utf8)
    /// The tag of a 20-digit TempID, written as its halves.
    private static let decimalTag: UInt8 = 0
    /// The tag of any other TempID, written as its text.
    private static let textTag: UInt8 = 1
    /// The tag of a TempID that is padded base64 (a sealed one), written as the bytes it encodes (since 2026-12-03).
    private static let base64Tag: UInt8 = 2

    /// The block of `contacts`, in their order.
    package init(_ contacts: some Collection<TracedContact>) {
        var size = 8
        for contact in contacts { size += Self.estimatedSize(of: contact) }
        var bytes = Self.magic
        bytes.reserveCapacity(size)
        bytes.appendLittleEndian(UInt32(contacts.count))
        for contact in contacts {
            bytes.appendText(contact.phone, lengthBytes: 2)
            bytes.appendLittleEndian(contact.firstEncounter.secondsSinceEpoch)
            bytes.appendLittleEndian(contact.lastEncounter.secondsSinceEpoch)
            bytes.appendLittleEndian(UInt64(clamping: contact.encounters))
            bytes.appendLittleEndian(UInt32(contact.tempIDs.count))
            for tempID in contact.tempIDs {
                if let halves = tempID.decimalHalves {
                    bytes.append(Self.decimalTag)
                    bytes.appendLittleEndian(halves.high)
                    bytes.appendLittleEndian(halves.low)
                } else {
                    bytes.append(Self.base64Tag)
                    if !bytes.appendBase64Decoded(tempID.rawValue) {
                        bytes[bytes.count - 1] = Self.textTag
                        bytes.appendText(tempID.rawValue, lengthBytes: 2)
                    }
                }
            }
        }
        self.bytes = bytes
    }

    /// About how many bytes `contact` takes in a block (exactly, when its TempIDs are 20-digit ones).
    private static func estimatedSize(of contact: TracedContact) -> Int {
        30 + contact.phone.utf8.count + 17 * contact.tempIDs.count
    }

    /// `contacts` cut into runs of about `bytes` bytes of block each (a contact is never cut), so that a store can
    /// write the contacts of a huge upload a block at a time instead of holding one block of them all beside its own
    /// copy of it.
    package static func parts(of contacts: [TracedContact], bytes: Int) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = 0
        var size = 0
        for (index, contact) in contacts.enumerated() {
            size += estimatedSize(of: contact)
            if size >= bytes {
                parts.append(start..<index + 1)
                start = index + 1
                size = 0
            }
        }
        if start < contacts.count { parts.append(start..<contacts.count) }
        return parts
    }

    /// The contacts of a stored block, in their order; throws when the bytes are not a block this version can read.
    package static func contacts(in bytes: [UInt8]) throws(CorruptBlock) -> [TracedContact] {
        var reader = BlockReader(bytes: bytes)
        guard try reader.take(4).elementsEqual(magic) else { throw CorruptBlock() }
        let count = Int(try reader.integer(UInt32.self))
        var contacts: [TracedContact] = []
        // Each contact takes at least 30 bytes: a damaged count cannot reserve more than the block could hold.
        contacts.reserveCapacity(min(count, bytes.count / 30))
        for _ in 0..<count {
            let phone = try reader.text(lengthBytes: 2)
            let first = try reader.timestamp()
            let last = try reader.timestamp()
            let encounters = try reader.integer(UInt64.self)
            guard let encounters = Int(exactly: encounters) else { throw CorruptBlock() }
            let tempIDCount = Int(try reader.integer(UInt32.self))
            var tempIDs: [TempID] = []
            tempIDs.reserveCapacity(min(tempIDCount, bytes.count / 3))
            for _ in 0..<tempIDCount {
                switch try reader.integer(UInt8.self) {
                case decimalTag:
                    let high = try reader.integer(UInt64.self)
                    guard let tempID = TempID(decimalHalves: (high, try reader.integer(UInt64.self))) else {
                        throw CorruptBlock()
                    }
                    tempIDs.append(tempID)
                case textTag:
                    guard let tempID = TempID(try reader.text(lengthBytes: 2)) else { throw CorruptBlock() }
                    tempIDs.append(tempID)
                case base64Tag:
                    guard let tempID = TempID(try reader.base64Text()) else { throw CorruptBlock() }
                    tempIDs.append(tempID)
                default:
                    throw CorruptBlock()
                }
            }
            contacts.append(
                TracedContact(
                    phone: phone, firstEncounter: first, lastEncounter: last, encounters: encounters,
                    tempIDs: tempIDs))
        }
        guard reader.isAtEnd else { throw CorruptBlock() }
        return contacts
    }
}
