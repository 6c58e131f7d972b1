import Foundation

/// Strict base64 helpers: every decoder accepts only the canonical encoding of its bytes.
enum Base64 {
    /// Standard base64 with `=` padding.
    static func encodePadded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Standard base64 without padding, as PHC strings write salts and hashes.
    static func encodeUnpadded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = encodePadded(bytes)
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// The bytes of padded standard base64 `text`, or `nil` unless `text` is exactly their canonical encoding.
    static func decodePadded<S: StringProtocol>(_ text: S) -> [UInt8]? {
        guard let data = Data(base64Encoded: String(text)) else { return nil }
        let bytes = [UInt8](data)
        guard encodePadded(bytes) == text else { return nil }
        return bytes
    }

    /// The bytes of unpadded standard base64 `text`, or `nil` unless `text` is exactly their canonical encoding.
    static func decodeUnpadded<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let count = text.utf8.count
        guard count % 4 != 1, !text.contains("=") else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        let bytes = [UInt8](data)
        guard encodeUnpadded(bytes) == text else { return nil }
        return bytes
    }
}
