import BlueTraceDomain

/// Reads a stored block (`EncounterBlock`, `ContactBlock`) front to back, little-endian, refusing to run past its end.
struct BlockReader {
    /// The block's bytes.
    let bytes: [UInt8]
    /// Where the next read starts.
    var offset = 0

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset == bytes.count }

    /// The next `count` bytes.
    mutating func take(_ count: Int) throws(CorruptBlock) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw CorruptBlock() }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// The next integer of this type.
    mutating func integer<Integer: FixedWidthInteger>(_: Integer.Type) throws(CorruptBlock) -> Integer {
        let slice = try take(MemoryLayout<Integer>.size)
        var value = Integer.zero
        for (shift, byte) in slice.enumerated() { value |= Integer(byte) << (shift * 8) }
        return value
    }

    /// The next time, as seconds since the epoch (Int64).
    mutating func timestamp() throws(CorruptBlock) -> Timestamp {
        Timestamp(secondsSinceEpoch: Int64(bitPattern: try integer(UInt64.self)))
    }

    /// The next text: its length in `lengthBytes` bytes (2 or 4), then its UTF-8 bytes.
    mutating func text(lengthBytes: Int) throws(CorruptBlock) -> String {
        let count = lengthBytes == 2 ? Int(try integer(UInt16.self)) : Int(try integer(UInt32.self))
        return String(decoding: try take(count), as: UTF8.self)
    }
}

extension [UInt8] {
    /// Appends `value`, little-endian.
    mutating func appendLittleEndian<Integer: FixedWidthInteger>(_ value: Integer) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends `text` as `BlockReader.text(lengthBytes:)` reads it (its UTF-8 cut to what the length can count).
    mutating func appendText(_ text: String, lengthBytes: Int) {
        var text = text
        text.withUTF8 { utf8 in
            let count = Swift.min(utf8.count, lengthBytes == 2 ? Int(UInt16.max) : Int(UInt32.max))
            if lengthBytes == 2 { appendLittleEndian(UInt16(count)) } else { appendLittleEndian(UInt32(count)) }
            append(contentsOf: utf8[..<count])
        }
    }
}
