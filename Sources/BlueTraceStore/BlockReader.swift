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

    /// The next text written as the bytes it is the padded base64 of (`appendBase64Decoded`): their count (UInt8),
    /// then the bytes.
    mutating func base64Text() throws(CorruptBlock) -> String {
        let count = Int(try integer(UInt8.self))
        return Base64.encodePadded(try take(count))
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

    /// Appends `text` as `BlockReader.base64Text()` reads it when `text` is the canonical padded base64 of at most
    /// 255 bytes (a sealed TempID's 80 characters take 59 bytes instead of 82), and says whether it did; appends
    /// nothing otherwise.
    mutating func appendBase64Decoded(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            guard let count = Base64.decodedByteCount(ofPadded: utf8), count <= Int(UInt8.max) else { return false }
            let start = self.count
            append(UInt8(count))
            append(contentsOf: repeatElement(0, count: count))
            let decoded = withUnsafeMutableBytes { bytes in
                Base64.decodePadded(utf8, into: UnsafeMutableRawBufferPointer(rebasing: bytes[(start + 1)...]))
            }
            if !decoded { removeLast(count + 1) }
            return decoded
        }
    }
}
