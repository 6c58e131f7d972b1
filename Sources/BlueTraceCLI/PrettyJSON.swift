import Foundation

/// The JSON the official's commands print: indented, keys sorted, for people and programs alike.
enum PrettyJSON {
    /// `rows` as a JSON array (an empty one if they cannot be encoded).
    static func string(_ rows: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
