import BlueTraceDomain

/// An upload's entries, every one with its verdict, as one compact block: how the stores keep them (one column of the
/// upload's row) instead of a row per entry.
///
/// Version 2, little-endian: the magic `BTE2`; the number of entries (UInt32) and each entry as a flags byte (which of
/// the optional fields follow, and in which form), a verdict byte (0 traced, else `Self.reasons`' position + 1), then
/// the fields present: the TempID as sent (a 20-digit one as its two 10-digit halves, UInt64 each; a padded base64 one,
/// such as a sealed TempID, as the count (UInt8) and the bytes it encodes, flagged `decimalTempID` without `tempID`,
/// since 2026-12-03, which earlier readers refuse; any other as a UInt16 length and bytes), the start (Int64) and expiry (as its distance from the start, UInt32, when it fits; else
/// Int64), when it was heard (its distance from the start, Int32, when there is a start and it fits; else Int64), the
/// contact (UInt32, its place in the contact list) and the detail of a malformed entry (UInt32 length and bytes); last,
/// the number of distinct traced contacts (UInt32) and each as its length (UInt16) and UTF-8 bytes (last, so that the
/// block is written as the entries are judged). A 20-digit entry takes 38 bytes, a sealed one 81. Version 1 (`BTE1`, written before
/// 2026-12-02) has its contacts before its entries and no compact forms, and is still read.
package struct EncounterBlock: Hashable, Sendable {
    /// The block's bytes.
    package let bytes: [UInt8]

    private static let magic: [UInt8] = Array("BTE2".utf8)
    private static let firstMagic: [UInt8] = Array("BTE1".utf8)
    /// Why an entry did not trace, by code; new reasons are only ever appended, so stored codes keep their meaning.
    private static let reasons: [UnmatchedReason] = [
        .unknownID, .failedDecryption, .timeMismatch, .expiredID, .malformed,
    ]

    private enum Flag {
        static let tempID: UInt8 = 1
        static let validity: UInt8 = 2
        static let heardAt: UInt8 = 4
        static let contact: UInt8 = 8
        static let detail: UInt8 = 16
        /// The TempID is 20 digits, written as its halves (version 2); without `tempID`, the TempID is padded base64
        /// (a sealed one), written as the bytes it encodes (since 2026-12-03).
        static let decimalTempID: UInt8 = 32
        /// The expiry is written as its distance from the start, in 32 bits (version 2).
        static let compactExpiry: UInt8 = 64
        /// When it was heard is written as its distance from the start, in 32 bits (version 2).
        static let compactHeardAt: UInt8 = 128
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The block of `encounters`, in their order, their contacts numbered in the order they first appear.
    package init(_ encounters: [StoredEncounter]) {
        self = UploadRecord(uploader: "", receivedAt: Timestamp(secondsSinceEpoch: 0), encounters: encounters).block
    }

    /// Writes a block entry by entry, or in parts written side by side and then joined (`append(contentsOf:)`).
    package struct Writer: Sendable {
        private var bytes: [UInt8]
        /// The entries in `bytes`.
        private var count: UInt32 = 0
        /// Where each contact number was written, for a part whose numbers are renumbered when it is joined to the
        /// block before it; `nil` for a block written whole.
        private var contactOffsets: [UInt32]?
        /// The parts joined after this block's own entries, each with what its contact numbers stand for in this
        /// block (`renumbered[n]` for its number `n`): kept apart until `finish` writes the whole block once, at its
        /// size, and renumbers each part's numbers there (joining them as they come would copy the block each time it
        /// outgrew its room, into fresh memory, which is dear).
        private var joined: [(part: Writer, renumbered: [UInt32])] = []
        /// The magic and the number of entries, before the first entry.
        private static let headerByteCount = 8

        /// Starts a block, with room for about `expectedEntries` 20-digit entries; a block written as a part of another
        /// (`isPart`) also notes where its contact numbers are.
        package init(expectedEntries: Int, isPart: Bool = false) {
            bytes = EncounterBlock.magic
            bytes.reserveCapacity(12 + 38 * expectedEntries)
            if isPart { contactOffsets = [] }
            append(UInt32(0))
        }

        /// Adds the entries of `part`, which follow those added so far, its contact number `n` written as
        /// `renumbered[n]` (its contacts' numbers in this block's list).
        package mutating func append(contentsOf part: consuming Writer, renumbering renumbered: [UInt32]) {
            var part = part
            precondition(part.contactOffsets != nil, "a block joined to another is started as a part")
            // The parts joined to it count in its numbers: theirs stand for `renumbered` of those.
            let pieces = part.joined
            part.joined = []
            joined.append((part, renumbered))
            for piece in pieces { joined.append((piece.part, piece.renumbered.map { renumbered[Int($0)] })) }
        }

        /// Adds `encounter`, whose contact (if it has one) is number `contactNumber` of the list `finish` is given.
        package mutating func append(_ encounter: StoredEncounter, contactNumber: UInt32) {
            count += 1
            var flags: UInt8 = 0
            var halves: (high: UInt64, low: UInt64)?
            if let tempID = encounter.validTempID {
                flags |= Flag.tempID
                if let decimal = tempID.decimalHalves {
                    flags |= Flag.decimalTempID
                    halves = decimal
                }
            } else if encounter.tempID != nil {
                flags |= Flag.tempID
            }
            var span: UInt32?
            if let validity = encounter.validity {
                flags |= Flag.validity
                let difference = validity.expiry.secondsSinceEpoch.subtractingReportingOverflow(
                    validity.start.secondsSinceEpoch)
                if !difference.overflow, let fits = UInt32(exactly: difference.partialValue) {
                    flags |= Flag.compactExpiry
                    span = fits
                }
            }
            var heardOffset: Int32?
            if let heardAt = encounter.heardAt {
                flags |= Flag.heardAt
                if let start = encounter.validity?.start {
                    let difference = heardAt.secondsSinceEpoch.subtractingReportingOverflow(start.secondsSinceEpoch)
                    if !difference.overflow, let fits = Int32(exactly: difference.partialValue) {
                        flags |= Flag.compactHeardAt
                        heardOffset = fits
                    }
                }
            }
            if encounter.contact != nil { flags |= Flag.contact }
            if encounter.detail != nil { flags |= Flag.detail }
            let verdict = encounter.unmatchedReason.map { UInt8(EncounterBlock.reasons.firstIndex(of: $0)! + 1) } ?? 0
            guard let halves else {
                // A TempID of another kind, or none: written field by field. A base64 one (a sealed TempID) as the
                // bytes it encodes, its flags saying so.
                let flagsOffset = bytes.count
                bytes.append(flags)
                bytes.append(verdict)
                if let tempID = encounter.tempID {
                    if bytes.appendBase64Decoded(tempID) {
                        bytes[flagsOffset] = flags & ~Flag.tempID | Flag.decimalTempID
                    } else {
                        append(text: tempID, lengthBytes: 2)
                    }
                }
                appendTimes(of: encounter, span: span, heardOffset: heardOffset)
                if encounter.contact != nil {
                    noteContactNumber(at: bytes.count)
                    append(contactNumber)
                }
                if let detail = encounter.detail { append(text: detail, lengthBytes: 4) }
                return
            }
            // A 20-digit TempID: the fixed-size fields gathered first and appended at once (at most 46 bytes).
            withUnsafeTemporaryAllocation(byteCount: 48, alignment: 8) { scratch in
                var fields = Fields(buffer: scratch)
                fields.store(flags)
                fields.store(verdict)
                fields.store(halves.high)
                fields.store(halves.low)
                if let validity = encounter.validity {
                    fields.store(UInt64(bitPattern: validity.start.secondsSinceEpoch))
                    if let span {
                        fields.store(span)
                    } else {
                        fields.store(UInt64(bitPattern: validity.expiry.secondsSinceEpoch))
                    }
                }
                if let heardAt = encounter.heardAt {
                    if let heardOffset {
                        fields.store(UInt32(bitPattern: heardOffset))
                    } else {
                        fields.store(UInt64(bitPattern: heardAt.secondsSinceEpoch))
                    }
                }
                if encounter.contact != nil {
                    noteContactNumber(at: bytes.count + fields.count)
                    fields.store(contactNumber)
                }
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<fields.count]))
            }
            if let detail = encounter.detail { append(text: detail, lengthBytes: 4) }
        }

        /// Notes, in a part, that a contact number is written at byte `offset`.
        private mutating func noteContactNumber(at offset: Int) {
            contactOffsets?.append(UInt32(offset))
        }

        /// Appends the start, expiry and heard-at of `encounter` that it has, in the forms `span` and `heardOffset`
        /// allow.
        private mutating func appendTimes(of encounter: StoredEncounter, span: UInt32?, heardOffset: Int32?) {
            if let validity = encounter.validity {
                append(UInt64(bitPattern: validity.start.secondsSinceEpoch))
                if let span { append(span) } else { append(UInt64(bitPattern: validity.expiry.secondsSinceEpoch)) }
            }
            if let heardAt = encounter.heardAt {
                if let heardOffset {
                    append(UInt32(bitPattern: heardOffset))
                } else {
                    append(UInt64(bitPattern: heardAt.secondsSinceEpoch))
                }
            }
        }

        /// Little-endian fields stored one after another into a small buffer.
        private struct Fields {
            let buffer: UnsafeMutableRawBufferPointer
            var count = 0

            mutating func store<Integer: FixedWidthInteger>(_ value: Integer) {
                buffer.storeBytes(of: value.littleEndian, toByteOffset: count, as: Integer.self)
                count += MemoryLayout<Integer>.size
            }
        }

        /// The block of every entry added, with the list of contacts their numbers point into.
        package consuming func finish(contacts: [String]) -> EncounterBlock {
            if !joined.isEmpty {
                var size = bytes.count + 4
                for (part, _) in joined { size += part.bytes.count - Self.headerByteCount }
                for contact in contacts { size += 2 + contact.utf8.count }
                var whole: [UInt8] = []
                whole.reserveCapacity(size)
                whole.append(contentsOf: bytes)
                // Each part let go of once copied, so that the block is never held twice over.
                joined.reverse()
                while let (part, renumbered) = joined.popLast() {
                    let base = whole.count - Self.headerByteCount
                    whole.append(contentsOf: part.bytes[Self.headerByteCount...])
                    whole.withUnsafeMutableBytes { whole in
                        for offset in part.contactOffsets ?? [] {
                            let at = base + Int(offset)
                            let number = UInt32(littleEndian: whole.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                            whole.storeBytes(
                                of: renumbered[Int(number)].littleEndian, toByteOffset: at, as: UInt32.self)
                        }
                    }
                    count += part.count
                }
                bytes = consume whole
            }
            withUnsafeBytes(of: count.littleEndian) { count in
                for (offset, byte) in count.enumerated() { bytes[4 + offset] = byte }
            }
            append(UInt32(contacts.count))
            for contact in contacts { append(text: contact, lengthBytes: 2) }
            return EncounterBlock(bytes: bytes)
        }

        private mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
            bytes.appendLittleEndian(value)
        }

        private mutating func append(text: String, lengthBytes: Int) {
            bytes.appendText(text, lengthBytes: lengthBytes)
        }
    }

    /// The entries of a stored block, in upload order; throws when the bytes are not a block this version can read.
    package static func encounters(in bytes: [UInt8]) throws(CorruptBlock) -> [StoredEncounter] {
        var reader = BlockReader(bytes: bytes)
        let magic = try reader.take(4)
        let version2 = magic.elementsEqual(Self.magic)
        guard version2 || magic.elementsEqual(firstMagic) else { throw CorruptBlock() }
        var contacts: [String] = []
        if !version2 { contacts = try readContacts(&reader) }
        let count = Int(try reader.integer(UInt32.self))
        var encounters: [StoredEncounter] = []
        var contactNumbers: [Int] = []
        encounters.reserveCapacity(min(count, bytes.count))
        contactNumbers.reserveCapacity(min(count, bytes.count))
        for _ in 0..<count {
            let (encounter, contactNumber) = try readEntry(&reader, version2: version2)
            encounters.append(encounter)
            contactNumbers.append(contactNumber)
        }
        if version2 { contacts = try readContacts(&reader) }
        guard reader.isAtEnd else { throw CorruptBlock() }
        for (index, number) in contactNumbers.enumerated() where number >= 0 {
            guard number < contacts.count else { throw CorruptBlock() }
            encounters[index].contact = contacts[number]
        }
        return encounters
    }

    /// The list of contacts: their number, then each as its length and bytes.
    private static func readContacts(_ reader: inout BlockReader) throws(CorruptBlock) -> [String] {
        let contactCount = Int(try reader.integer(UInt32.self))
        var contacts: [String] = []
        contacts.reserveCapacity(min(contactCount, reader.bytes.count))
        for _ in 0..<contactCount { contacts.append(try reader.text(lengthBytes: 2)) }
        return contacts
    }

    /// One entry, its contact left out and given as its number instead (−1 for none).
    private static func readEntry(
        _ reader: inout BlockReader, version2: Bool
    ) throws(CorruptBlock) -> (StoredEncounter, contactNumber: Int) {
        let flags = try reader.integer(UInt8.self)
        // Version 1 has no compact forms: their flags in a version-1 block mean damage.
        guard version2 || flags < Flag.decimalTempID else { throw CorruptBlock() }
        let verdict = Int(try reader.integer(UInt8.self))
        guard verdict <= reasons.count else { throw CorruptBlock() }
        var decimalTempID: TempID?
        var tempID: String?
        if flags & Flag.decimalTempID != 0, flags & Flag.tempID == 0 {
            tempID = try reader.base64Text()
        } else if flags & Flag.decimalTempID != 0 {
            let high = try reader.integer(UInt64.self)
            guard let decimal = TempID(decimalHalves: (high, try reader.integer(UInt64.self))) else {
                throw CorruptBlock()
            }
            decimalTempID = decimal
        } else if flags & Flag.tempID != 0 {
            tempID = try reader.text(lengthBytes: 2)
        }
        var validity: ValidityWindow?
        if flags & Flag.validity != 0 {
            let start = try reader.timestamp()
            let expiry =
                flags & Flag.compactExpiry != 0
                ? start + Int64(try reader.integer(UInt32.self)) : try reader.timestamp()
            validity = ValidityWindow(start: start, expiry: expiry)
        }
        var heardAt: Timestamp?
        if flags & Flag.heardAt != 0 {
            if flags & Flag.compactHeardAt != 0 {
                guard let start = validity?.start else { throw CorruptBlock() }
                heardAt = start + Int64(Int32(bitPattern: try reader.integer(UInt32.self)))
            } else {
                heardAt = try reader.timestamp()
            }
        }
        let contactNumber = flags & Flag.contact != 0 ? Int(try reader.integer(UInt32.self)) : -1
        let detail = flags & Flag.detail != 0 ? try reader.text(lengthBytes: 4) : nil
        let reason = verdict == 0 ? nil : reasons[verdict - 1]
        let encounter =
            if let decimalTempID {
                StoredEncounter(
                    tempID: decimalTempID, validity: validity, heardAt: heardAt, contact: nil,
                    unmatchedReason: reason, detail: detail)
            } else {
                StoredEncounter(
                    tempID: tempID, validity: validity, heardAt: heardAt, contact: nil, unmatchedReason: reason,
                    detail: detail)
            }
        return (encounter, contactNumber)
    }
}

/// A stored block (of encounters, contacts or TempID mappings) that this version cannot read: damaged, or written by a
/// later version.
package struct CorruptBlock: Error, CustomStringConvertible {
    /// What cannot be read, as the message names it.
    package var what = "an upload's stored entries or contacts"

    /// A damaged block of an upload's entries or contacts.
    package init() {}

    /// A damaged block of `what`.
    package init(what: String) {
        self.what = what
    }

    package var description: String {
        "\(what) cannot be read: the database is damaged or was written by a newer bluetrace"
    }
}
