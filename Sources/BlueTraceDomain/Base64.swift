import Foundation

/// Strict base64 helpers: every decoder accepts only the canonical encoding of its bytes.
package enum Base64 {
    /// Standard base64 with `=` padding, written by hand into the string in one pass (every sealed TempID is
    /// encoded: a simulated day of a million phones seals 77 million).
    package static func encodePadded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let bytes = Array(bytes)
        return bytes.withUnsafeBufferPointer { bytes in
            String(unsafeUninitializedCapacity: (bytes.count + 2) / 3 * 4) { text in
                var written = 0
                var index = 0
                while index < bytes.count {
                    let remaining = bytes.count - index
                    let word =
                        UInt32(bytes[index]) << 16 | (remaining > 1 ? UInt32(bytes[index + 1]) << 8 : 0)
                        | (remaining > 2 ? UInt32(bytes[index + 2]) : 0)
                    text[written] = alphabet[Int(word >> 18)]
                    text[written + 1] = alphabet[Int(word >> 12 & 0x3F)]
                    text[written + 2] = remaining > 1 ? alphabet[Int(word >> 6 & 0x3F)] : UInt8(ascii: "=")
                    text[written + 3] = remaining > 2 ? alphabet[Int(word & 0x3F)] : UInt8(ascii: "=")
                    written += 4
                    index += 3
                }
                return written
            }
        }
    }

    /// The base64 alphabet, by value.
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 without padding, as PHC strings write salts and hashes.
    package static func encodeUnpadded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = encodePadded(bytes)
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// The bytes of padded standard base64 `text`, or `nil` unless `text` is exactly their canonical encoding: four
    /// characters of the alphabet for every three bytes, `=` only as the last one or two, and no bits set that the
    /// padding leaves out.
    package static func decodePadded<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var text = String(text)
        return text.withUTF8 { utf8 -> [UInt8]? in
            guard let byteCount = decodedByteCount(ofPadded: utf8) else { return nil }
            var valid = false
            let decoded = [UInt8](unsafeUninitializedCapacity: byteCount) { bytes, initialized in
                valid = decodePadded(utf8, into: UnsafeMutableRawBufferPointer(bytes))
                initialized = valid ? byteCount : 0
            }
            return valid ? decoded : nil
        }
    }

    /// How many bytes padded base64 `utf8` decodes to (`nil` when its length is not a multiple of four); the
    /// characters themselves are checked by `decodePadded(_:into:)`.
    package static func decodedByteCount(ofPadded utf8: UnsafeBufferPointer<UInt8>) -> Int? {
        guard utf8.count % 4 == 0 else { return nil }
        guard !utf8.isEmpty else { return 0 }
        let padding = utf8[utf8.count - 1] != UInt8(ascii: "=") ? 0 : utf8[utf8.count - 2] != UInt8(ascii: "=") ? 1 : 2
        return utf8.count / 4 * 3 - padding
    }

    /// Decodes padded base64 `utf8` into `bytes`, which must hold exactly `decodedByteCount(ofPadded:)` bytes, by hand
    /// in one pass and without allocating (every sealed TempID of an upload is decoded); `false` unless `utf8` is
    /// exactly the canonical encoding of what it wrote (the rule `decodePadded(_:)` states).
    package static func decodePadded(
        _ utf8: UnsafeBufferPointer<UInt8>, into bytes: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard let byteCount = decodedByteCount(ofPadded: utf8), bytes.count == byteCount else { return false }
        guard !utf8.isEmpty else { return true }
        let padding = utf8.count / 4 * 3 - byteCount
        return values.withUnsafeBufferPointer { values in
            // Every group but a padded last one: four characters, three bytes, no padding to think of; a character
            // outside the alphabet is noted as it passes and refused once at the end (its value is 255).
            let wholeGroups = utf8.count / 4 - (padding > 0 ? 1 : 0)
            var outside: UInt8 = 0
            for group in 0..<wholeGroups {
                let first = values[Int(utf8[group * 4])]
                let second = values[Int(utf8[group * 4 + 1])]
                let third = values[Int(utf8[group * 4 + 2])]
                let fourth = values[Int(utf8[group * 4 + 3])]
                outside |= first | second | third | fourth
                let word = UInt32(first) << 18 | UInt32(second) << 12 | UInt32(third) << 6 | UInt32(fourth)
                bytes[group * 3] = UInt8(truncatingIfNeeded: word >> 16)
                bytes[group * 3 + 1] = UInt8(truncatingIfNeeded: word >> 8)
                bytes[group * 3 + 2] = UInt8(truncatingIfNeeded: word)
            }
            guard outside < 64 else { return false }
            guard padding > 0 else { return true }
            // The last group: one or two `=`, and none of the bits they leave out set.
            let at = wholeGroups * 4
            let first = values[Int(utf8[at])]
            let second = values[Int(utf8[at + 1])]
            let third = padding == 2 ? 0 : values[Int(utf8[at + 2])]
            guard first | second | third < 64 else { return false }
            let word = UInt32(first) << 18 | UInt32(second) << 12 | UInt32(third) << 6
            bytes[wholeGroups * 3] = UInt8(truncatingIfNeeded: word >> 16)
            if padding == 2 { return second & 0x0F == 0 }
            bytes[wholeGroups * 3 + 1] = UInt8(truncatingIfNeeded: word >> 8)
            return third & 0x03 == 0
        }
    }

    /// The value of each byte as a base64 character; 255 for bytes outside the alphabet (`=` included).
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 255, count: 256)
        for (value, character) in alphabet.enumerated() {
            values[Int(character)] = UInt8(value)
        }
        return values
    }()

    /// The bytes of unpadded standard base64 `text`, or `nil` unless `text` is exactly their canonical encoding.
    package static func decodeUnpadded<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let count = text.utf8.count
        guard count % 4 != 1, !text.contains("=") else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        let bytes = [UInt8](data)
        guard encodeUnpadded(bytes) == text else { return nil }
        return bytes
    }
}
