import BlueTraceDomain
import Foundation

/// A fixed time to build keys and windows around: 2023-11-14 22:13:20 UTC.
let sampleTime = Timestamp(secondsSinceEpoch: 1_700_000_000)

/// Runs `body` with a fresh empty directory that is removed afterwards.
@discardableResult
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("bluetrace-security-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The permission bits of the file at `path`.
func fileMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as! NSNumber).intValue & 0o777
}

/// Writes `text` to `path` with permission bits `mode`.
func writeFile(_ path: String, _ text: String, mode: Int = 0o600) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

/// Standard base64 of `count` bytes counting up from `first`.
func material(count: Int = 32, first: UInt8 = 1) -> String {
    Data((0..<count).map { first &+ UInt8(truncatingIfNeeded: $0) }).base64EncodedString()
}

/// A key-file entry as JSON text.
func keyEntry(id: Int, created: Int64 = 1_700_000_000, retired: Int64? = nil, material: String = material()) -> String {
    "{\"id\": \(id), \"created\": \(created), \"retired\": \(retired.map(String.init) ?? "null"), "
        + "\"material\": \"\(material)\"}"
}

/// A whole key file as JSON text.
func keyFileText(format: Int = 1, entries: [String]) -> String {
    "{\"format\": \(format), \"keys\": [\(entries.joined(separator: ", "))]}"
}
