import BlueTraceDomain

/// An upload's entries, every one with its verdict, as one compact block: how the SQLite store keeps them (one column
/// of the upload's row) instead of a row per entry.
///
/// Version 1, little-endian: the magic `BTE1`; the number of distinct traced contacts (UInt32) and each as its length
/// (UInt16) and UTF-8 bytes; the number of entries (UInt32) and each entry as a flags byte (which of the optional
/// fields follow), a verdict byte (0 traced, else `Self.reasons`' position + 1), then the fields present: the TempID
/// as sent (UInt16 length and bytes), start and expiry (Int64 each), when it was heard (Int64), the contact (UInt32,
/// its place in the contact list) and the detail of a malformed entry (UInt32 length and bytes).
package struct EncounterBlock {
    /// The block's bytes.
    package private(set) var bytes: [UInt8]

    private static let magic: [UInt8] = Array("BTE1".utf8)
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
    }

    /// The block of `encounters`, in their order.
    package init(_ encounters: [StoredEncounter]) {
        var contactNumbers: [String: UInt32] = [:]
        var contacts: [String] = []
        for encounter in encounters {
            if let contact = encounter.contact, contactNumbers[contact] == nil {
                contactNumbers[contact] = UInt32(contacts.count)
                contacts.append(contact)
            }
        }
        var bytes = Self.magic
        bytes.reserveCapacity(16 + contacts.count * 14 + encounters.count * 48)
        Self.append(UInt32(contacts.count), to: &bytes)
        for contact in contacts { Self.append(text: contact, lengthBytes: 2, to: &bytes) }
        Self.append(UInt32(encounters.count), to: &bytes)
        for encounter in encounters {
            var flags: UInt8 = 0
            if encounter.tempID != nil { flags |= Flag.tempID }
            if encounter.validity != nil { flags |= Flag.validity }
            if encounter.heardAt != nil { flags |= Flag.heardAt }
            if encounter.contact != nil { flags |= Flag.contact }
            if encounter.detail != nil { flags |= Flag.detail }
            bytes.append(flags)
            bytes.append(encounter.unmatchedReason.map { UInt8(Self.reasons.firstIndex(of: $0)! + 1) } ?? 0)
            if let tempID = encounter.tempID { Self.append(text: tempID, lengthBytes: 2, to: &bytes) }
            if let validity = encounter.validity {
                Self.append(UInt64(bitPattern: validity.start.secondsSinceEpoch), to: &bytes)
                Self.append(UInt64(bitPattern: validity.expiry.secondsSinceEpoch), to: &bytes)
            }
            if let heardAt = encounter.heardAt {
                Self.append(UInt64(bitPattern: heardAt.secondsSinceEpoch), to: &bytes)
            }
            if let contact = encounter.contact { Self.append(contactNumbers[contact]!, to: &bytes) }
            if let detail = encounter.detail { Self.append(text: detail, lengthBytes: 4, to: &bytes) }
        }
        self.bytes = bytes
    }

    /// The entries of a stored block, in upload order; throws when the bytes are not a block this version can read.
    package static func encounters(in bytes: [UInt8]) throws(CorruptBlock) -> [StoredEncounter] {
        var reader = Reader(bytes: bytes)
        guard try reader.take(4).elementsEqual(magic) else { throw CorruptBlock() }
        let contactCount = Int(try reader.integer(UInt32.self))
        var contacts: [String] = []
        contacts.reserveCapacity(min(contactCount, bytes.count))
        for _ in 0..<contactCount { contacts.append(try reader.text(lengthBytes: 2)) }
        let count = Int(try reader.integer(UInt32.self))
        var encounters: [StoredEncounter] = []
        encounters.reserveCapacity(min(count, bytes.count))
        for _ in 0..<count {
            let flags = try reader.integer(UInt8.self)
            let verdict = Int(try reader.integer(UInt8.self))
            guard verdict <= reasons.count else { throw CorruptBlock() }
            let tempID = flags & Flag.tempID != 0 ? try reader.text(lengthBytes: 2) : nil
            var validity: ValidityWindow?
            if flags & Flag.validity != 0 {
                let start = try reader.timestamp()
                validity = ValidityWindow(start: start, expiry: try reader.timestamp())
            }
            let heardAt = flags & Flag.heardAt != 0 ? try reader.timestamp() : nil
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

    private static func append<Integer: FixedWidthInteger>(_ value: Integer, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func append(text: String, lengthBytes: Int, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            if lengthBytes == 2 {
                append(UInt16(clamping: utf8.count), to: &bytes)
                bytes.append(contentsOf: utf8.prefix(Int(UInt16.max)))
            } else {
                append(UInt32(clamping: utf8.count), to: &bytes)
                bytes.append(contentsOf: utf8.prefix(Int(UInt32.max)))
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
