import BlueTraceDomain

/// A BlueTrace beacon: the TempID a phone broadcasts with its validity window.
///
/// Version 1 is the assignment's fixed 59-byte layout for 20-digit TempIDs. Version 2 (docs/PROTOCOL.md) is the same
/// layout for TempIDs of any length (sealed ones are 80 characters): TempID, start, expiry, then the character `2`;
/// the TempID is everything before the last 39 bytes.
public struct Beacon: Hashable, Sendable, CarriesIssuedTempID {
    /// The protocol version of the assignment's beacons (the character `1`).
    public static let assignmentVersion: UInt8 = 1
    /// The extended version, for TempIDs that are not 20 digits (the character `2`).
    public static let extendedVersion: UInt8 = 2
    /// The size of an assignment beacon: TempID (20) + start (19) + expiry (19) + version (1).
    public static let assignmentSize = TempID.decimalLength + 2 * TimestampFormat.length + 1
    /// Bytes after the TempID in both fixed layouts: start, expiry and version.
    private static let trailerSize = 2 * TimestampFormat.length + 1

    /// The sender's TempID, with the validity the sender declares.
    public var issued: IssuedTempID

    /// Creates a beacon carrying `issued`.
    public init(issued: IssuedTempID) {
        self.issued = issued
    }

    /// Creates a beacon carrying `tempID`, declared valid during `validity`.
    public init(tempID: TempID, validity: ValidityWindow) {
        self.init(issued: IssuedTempID(tempID: tempID, validity: validity))
    }

    /// The beacon protocol version this beacon is sent with: 1 for 20-digit TempIDs, 2 for any other.
    public var version: UInt8 { tempID.isDecimal ? Self.assignmentVersion : Self.extendedVersion }

    /// The datagram to send: TempID, start and expiry as `DD/MM/YYYY HH:MM:SS`, then the version character, with no
    /// separators: exactly the assignment's 59 bytes for a 20-digit TempID.
    public func datagram(format: TimestampFormat) -> [UInt8] {
        let text = tempID.rawValue
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + Self.trailerSize)
        bytes += text.utf8
        bytes += format.string(from: validity.start).utf8
        bytes += format.string(from: validity.expiry).utf8
        bytes.append(UInt8(ascii: "0") + version)
        return bytes
    }

    /// Reads a beacon datagram: a fixed layout (version 1's 59 bytes, or version 2; a trailing line ending tolerated),
    /// or the four fields as text separated by commas and/or spaces (a trailing newline, `;` or `.` tolerated).
    /// Throws, saying why, for anything else.
    public static func parse(
        _ datagram: some Collection<UInt8>, format: TimestampFormat
    ) throws(BeaconParseError)
        -> Beacon
    {
        let bytes = Array(datagram)
        // The fixed layouts, also when a sender added a line ending after them.
        var fixed = bytes[...]
        while fixed.count > assignmentSize, let last = fixed.last, last == 0x0A || last == 0x0D { fixed.removeLast() }
        if let beacon = parseFixed(fixed, format: format) { return beacon }
        return try parseText(bytes, format: format)
    }

    private static func parseFixed(_ bytes: ArraySlice<UInt8>, format: TimestampFormat) -> Beacon? {
        guard bytes.count > trailerSize, bytes.count <= TempID.maximumLength + trailerSize else { return nil }
        let idEnd = bytes.endIndex - trailerSize
        let startEnd = idEnd + TimestampFormat.length
        let expiryEnd = startEnd + TimestampFormat.length
        guard let tempID = TempID(String(decoding: bytes[bytes.startIndex..<idEnd], as: UTF8.self)),
            let start = format.timestamp(fromASCII: bytes[idEnd..<startEnd]),
            let expiry = format.timestamp(fromASCII: bytes[startEnd..<expiryEnd])
        else { return nil }
        switch bytes[expiryEnd] {
        case UInt8(ascii: "1") where tempID.isDecimal && bytes.count == assignmentSize: break
        case UInt8(ascii: "2"): break
        default: return nil
        }
        return Beacon(tempID: tempID, validity: ValidityWindow(start: start, expiry: expiry))
    }

    private static func parseText(_ bytes: [UInt8], format: TimestampFormat) throws(BeaconParseError) -> Beacon {
        guard bytes.count <= 1024 else { throw .tooLong(bytes.count) }
        guard bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            throw .notText(bytes.count)
        }
        var text = String(decoding: bytes, as: UTF8.self)
        // Trim by Unicode scalar: as Characters, "\r\n" is one grapheme, so a lone "\n" would not match it.
        while let last = text.unicodeScalars.last, "\r\n\t ;.".unicodeScalars.contains(last) {
            text.unicodeScalars.removeLast()
        }
        let tokens = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
        guard tokens.count == 6 else { throw .wrongLayout(bytes.count) }
        guard let tempID = TempID(tokens[0]) else { throw .invalidTempID }
        guard let start = format.timestamp(from: "\(tokens[1]) \(tokens[2])"),
            let expiry = format.timestamp(from: "\(tokens[3]) \(tokens[4])")
        else { throw .invalidTime }
        guard tokens[5] == "1" || tokens[5] == "2" else { throw .unsupportedVersion(String(tokens[5].prefix(8))) }
        return Beacon(tempID: tempID, validity: ValidityWindow(start: start, expiry: expiry))
    }
}

/// Why a datagram is not a beacon.
public enum BeaconParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Longer than any beacon could be.
    case tooLong(Int)
    /// Contains bytes that are not printable ASCII.
    case notText(Int)
    /// Neither the 59-byte layout nor four separated fields.
    case wrongLayout(Int)
    /// The TempID field is not a TempID.
    case invalidTempID
    /// A time field is not `DD/MM/YYYY HH:MM:SS`.
    case invalidTime
    /// The version field is not `1` or `2`.
    case unsupportedVersion(String)

    public var description: String {
        switch self {
        case .tooLong(let count): "\(count) bytes is too long for a beacon"
        case .notText(let count): "\(count) bytes that are not a text beacon"
        case .wrongLayout(let count):
            "\(count) bytes: expected 59 bytes (TempID + start + expiry + version) or the four fields separated "
                + "by commas or spaces"
        case .invalidTempID: "the TempID field is not a TempID"
        case .invalidTime: "a time field is not DD/MM/YYYY HH:MM:SS"
        case .unsupportedVersion(let version): "unsupported beacon version \"\(version)\""
        }
    }
}
