import BlueTraceDomain

/// An upload's entries, every one with its verdict, as one compact block: how the stores keep them (one column of the
/// upload's row) instead of a row per entry.
///
/// Version 2, little-endian: the magic `BTE2`; the number of distinct traced contacts (UInt32) and each as its length
/// (UInt16) and UTF-8 bytes; the number of entries (UInt32) and each entry as a flags byte (which of the optional
/// fields follow, and in which form), a verdict byte (0 traced, else `Self.reasons`' position + 1), then the fields
/// present: the TempID as sent (a 20-digit one as its two 10-digit halves, UInt64 each; any other as a UInt16 length
/// and bytes), the start (Int64) and expiry (as its distance from the start, UInt32, when it fits; else Int64), when
/// it was heard (its distance from the start, Int32, when there is a start and it fits; else Int64), the contact
/// (UInt32, its place in the contact list) and the detail of a malformed entry (UInt32 length and bytes). A 20-digit
/// entry takes 38 bytes. Version 1 (`BTE1`, written before 2026-12-02) is the same without the compact forms, and is
/// still read.
package struct EncounterBlock {
    /// The block's bytes.
    package private(set) var bytes: [UInt8]

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
        /// The TempID is 20 digits, written as its halves (version 2).
        static let decimalTempID: UInt8 = 32
        /// The expiry is written as its distance from the start, in 32 bits (version 2).
        static let compactExpiry: UInt8 = 64
        /// When it was heard is written as its distance from the start, in 32 bits (version 2).
        static let compactHeardAt: UInt8 = 128
    }

    /// The block of `encounters`, in their order.
    package init(_ encounters: [StoredEncounter]) {
        self.init(UploadRecord(uploader: "", receivedAt: Timestamp(secondsSinceEpoch: 0), encounters: encounters))
    }

    /// The block of an upload's entries, its contacts numbered as the record numbered them. Sized first, then written
    /// into memory allocated once.
    package init(_ upload: UploadRecord) {
        let contacts = upload.tracedContacts.map(\.phone)
        var size = 4 + 4 + 4
        for contact in contacts { size += 2 + min(contact.utf8.count, Int(UInt16.max)) }
        var forms: [(flags: UInt8, halves: (high: UInt64, low: UInt64))] = []
        forms.reserveCapacity(upload.encounters.count)
        for encounter in upload.encounters {
            let form = Self.form(of: encounter)
            forms.append(form)
            size += 2 + Self.size(of: encounter, flags: form.flags)
        }
        bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = Writer(buffer: UnsafeMutableRawBufferPointer(buffer))
            writer.append(Self.magic)
            writer.append(UInt32(contacts.count))
            for contact in contacts { writer.append(text: contact, lengthBytes: 2) }
            writer.append(UInt32(upload.encounters.count))
            for ((encounter, contactNumber), form) in zip(zip(upload.encounters, upload.contactPositions), forms) {
                writer.append(form.flags)
                writer.append(encounter.unmatchedReason.map { UInt8(Self.reasons.firstIndex(of: $0)! + 1) } ?? 0)
                if form.flags & Flag.decimalTempID != 0 {
                    writer.append(form.halves.high)
                    writer.append(form.halves.low)
                } else if let tempID = encounter.tempID {
                    writer.append(text: tempID, lengthBytes: 2)
                }
                if let validity = encounter.validity {
                    writer.append(UInt64(bitPattern: validity.start.secondsSinceEpoch))
                    if form.flags & Flag.compactExpiry != 0 {
                        writer.append(UInt32(validity.expiry.secondsSinceEpoch - validity.start.secondsSinceEpoch))
                    } else {
                        writer.append(UInt64(bitPattern: validity.expiry.secondsSinceEpoch))
                    }
                }
                if let heardAt = encounter.heardAt {
                    if form.flags & Flag.compactHeardAt != 0, let start = encounter.validity?.start {
                        writer.append(UInt32(bitPattern: Int32(heardAt.secondsSinceEpoch - start.secondsSinceEpoch)))
                    } else {
                        writer.append(UInt64(bitPattern: heardAt.secondsSinceEpoch))
                    }
                }
                if encounter.contact != nil { writer.append(UInt32(contactNumber)) }
                if let detail = encounter.detail { writer.append(text: detail, lengthBytes: 4) }
            }
            precondition(writer.offset == size, "an encounter block's size was miscounted")
            initialized = size
        }
    }

    /// The flags of `encounter` (which fields, in which form) and, for a 20-digit TempID, its halves.
    private static func form(of encounter: StoredEncounter) -> (flags: UInt8, halves: (high: UInt64, low: UInt64)) {
        var flags: UInt8 = 0
        var halves: (high: UInt64, low: UInt64) = (0, 0)
        if let tempID = encounter.tempID {
            flags |= Flag.tempID
            if tempID.utf8.count == TempID.decimalLength, let decimal = TempID(tempID)?.decimalHalves {
                flags |= Flag.decimalTempID
                halves = decimal
            }
        }
        if let validity = encounter.validity {
            flags |= Flag.validity
            let span = validity.expiry.secondsSinceEpoch.subtractingReportingOverflow(validity.start.secondsSinceEpoch)
            if !span.overflow, UInt32(exactly: span.partialValue) != nil { flags |= Flag.compactExpiry }
        }
        if let heardAt = encounter.heardAt {
            flags |= Flag.heardAt
            if let start = encounter.validity?.start {
                let offset = heardAt.secondsSinceEpoch.subtractingReportingOverflow(start.secondsSinceEpoch)
                if !offset.overflow, Int32(exactly: offset.partialValue) != nil { flags |= Flag.compactHeardAt }
            }
        }
        if encounter.contact != nil { flags |= Flag.contact }
        if encounter.detail != nil { flags |= Flag.detail }
        return (flags, halves)
    }

    /// The bytes of `encounter`'s fields after its flags and verdict, in the form `flags` says.
    private static func size(of encounter: StoredEncounter, flags: UInt8) -> Int {
        var size = 0
        if flags & Flag.decimalTempID != 0 {
            size += 16
        } else if let tempID = encounter.tempID {
            size += 2 + min(tempID.utf8.count, Int(UInt16.max))
        }
        if encounter.validity != nil { size += 8 + (flags & Flag.compactExpiry != 0 ? 4 : 8) }
        if encounter.heardAt != nil { size += flags & Flag.compactHeardAt != 0 ? 4 : 8 }
        if encounter.contact != nil { size += 4 }
        if let detail = encounter.detail { size += 4 + min(detail.utf8.count, Int(UInt32.max)) }
        return size
    }

    /// The entries of a stored block, in upload order; throws when the bytes are not a block this version can read.
    package static func encounters(in bytes: [UInt8]) throws(CorruptBlock) -> [StoredEncounter] {
        var reader = Reader(bytes: bytes)
        let magic = try reader.take(4)
        let version2 = magic.elementsEqual(Self.magic)
        guard version2 || magic.elementsEqual(firstMagic) else { throw CorruptBlock() }
        let contactCount = Int(try reader.integer(UInt32.self))
        var contacts: [String] = []
        contacts.reserveCapacity(min(contactCount, bytes.count))
        for _ in 0..<contactCount { contacts.append(try reader.text(lengthBytes: 2)) }
        let count = Int(try reader.integer(UInt32.self))
        var encounters: [StoredEncounter] = []
        encounters.reserveCapacity(min(count, bytes.count))
        for _ in 0..<count {
            let flags = try reader.integer(UInt8.self)
            // Version 1 has no compact forms: their flags in a version-1 block mean damage.
            guard version2 || flags < Flag.decimalTempID else { throw CorruptBlock() }
            let verdict = Int(try reader.integer(UInt8.self))
            guard verdict <= reasons.count else { throw CorruptBlock() }
            var tempID: String?
            if flags & Flag.decimalTempID != 0 {
                guard flags & Flag.tempID != 0 else { throw CorruptBlock() }
                let high = try reader.integer(UInt64.self)
                tempID = try Self.digits(high: high, low: reader.integer(UInt64.self))
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
            var contact: String?
            if flags & Flag.contact != 0 {
                let number = Int(try reader.integer(UInt32.self))
                guard number < contacts.count else { throw CorruptBlock() }
                contact = contacts[number]
            }
            let detail = flags & Flag.detail != 0 ? try reader.text(lengthBytes: 4) : nil
            encounters.append(
                StoredEncounter(
                    tempID: tempID, validity: validity, heardAt: heardAt, contact: contact,
                    unmatchedReason: verdict == 0 ? nil : reasons[verdict - 1], detail: detail))
        }
        guard reader.isAtEnd else { throw CorruptBlock() }
        return encounters
    }

    /// The 20-digit text of a TempID's halves; throws when a half has more than 10 digits.
    private static func digits(high: UInt64, low: UInt64) throws(CorruptBlock) -> String {
        guard high < 10_000_000_000, low < 10_000_000_000 else { throw CorruptBlock() }
        return String(unsafeUninitializedCapacity: TempID.decimalLength) { buffer in
            var (high, low) = (high, low)
            for index in stride(from: TempID.decimalLength - 1, through: 0, by: -1) {
                if index >= TempID.decimalLength / 2 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(low % 10)
                    low /= 10
                } else {
                    buffer[index] = UInt8(ascii: "0") + UInt8(high % 10)
                    high /= 10
                }
            }
            return TempID.decimalLength
        }
    }

    /// Writes a block into memory sized for it.
    private struct Writer {
        let buffer: UnsafeMutableRawBufferPointer
        var offset = 0

        mutating func append(_ bytes: [UInt8]) {
            for byte in bytes { append(byte) }
        }

        mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
            buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: Integer.self)
            offset += MemoryLayout<Integer>.size
        }

        mutating func append(text: String, lengthBytes: Int) {
            var text = text
            text.withUTF8 { utf8 in
                let count = min(utf8.count, lengthBytes == 2 ? Int(UInt16.max) : Int(UInt32.max))
                if lengthBytes == 2 { append(UInt16(count)) } else { append(UInt32(count)) }
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + count])
                    .copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[..<count])))
                offset += count
            }
        }
    }

    /// Reads a block front to back, refusing to run past its end.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) throws(CorruptBlock) -> ArraySlice<UInt8> {
            guard count <= bytes.count - offset else { throw CorruptBlock() }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        mutating func integer<Integer: FixedWidthInteger>(_: Integer.Type) throws(CorruptBlock) -> Integer {
            let slice = try take(MemoryLayout<Integer>.size)
            var value = Integer.zero
            for (shift, byte) in slice.enumerated() { value |= Integer(byte) << (shift * 8) }
            return value
        }

        mutating func timestamp() throws(CorruptBlock) -> Timestamp {
            Timestamp(secondsSinceEpoch: Int64(bitPattern: try integer(UInt64.self)))
        }

        mutating func text(lengthBytes: Int) throws(CorruptBlock) -> String {
            let count = lengthBytes == 2 ? Int(try integer(UInt16.self)) : Int(try integer(UInt32.self))
            return String(decoding: try take(count), as: UTF8.self)
        }
    }
}

/// A stored block of encounters that this version cannot read (damaged, or written by a later version).
package struct CorruptBlock: Error, CustomStringConvertible {
    package var description: String {
        "an upload's stored entries cannot be read: the database is damaged or was written by a newer bluetrace"
    }
}
