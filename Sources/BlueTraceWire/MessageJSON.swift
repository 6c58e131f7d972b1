import BlueTraceDomain
import Foundation
import NIOCore
import NIOFoundationCompat

// The JSON form of the protocol's messages (docs/PROTOCOL.md). Every message is one object with `v` (protocol
// version), `type` and `id`; unknown fields are ignored so later versions can add fields without breaking this one.
//
// This file reads them through `Decodable` and `JSONDecoder`: the full reader, behind the fast one of flat messages
// (JSONReader.swift) for anything unusual and for every error's explanation. They are written only by hand
// (JSONWriter.swift); they are not `Encodable`, so there is one writer to keep in step with this reader.

private enum Field: String, CodingKey {
    case v, type, id, username, password, entries, message, tempID, start, expiry, received, matched, unmatched
    case code, index, reason, detail, following, noticeID, lastEncounter, notices
}

/// Runs `decode` for the integer field `key`. `JSONDecoder` reports a number that does not fit the type (`-1` or `1.5`
/// for a `UInt64`) as "not valid JSON" without a coding path; this reports it as an invalid value of that field.
private func integerField<T>(
    _ key: Field, in container: KeyedDecodingContainer<Field>, _ decode: () throws -> T
) throws -> T {
    do {
        return try decode()
    } catch let error as DecodingError {
        throw error
    } catch {
        throw DecodingError.dataCorruptedError(
            forKey: key, in: container, debugDescription: "\(key.stringValue) is not an integer in range")
    }
}

extension ClientFrame: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        let id = try integerField(.id, in: container) { try container.decode(UInt64.self, forKey: .id) }
        let version =
            try integerField(.v, in: container) { try container.decodeIfPresent(Int.self, forKey: .v) }
            ?? ProtocolVersion.current
        guard version == ProtocolVersion.current else {
            throw MessageDecodingError(
                code: .unsupportedVersion,
                message: "protocol version \(version) is not supported; this server speaks version "
                    + "\(ProtocolVersion.current)",
                requestID: id)
        }
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "login":
            self.init(
                id: id,
                message: .login(
                    username: try container.decode(String.self, forKey: .username),
                    password: try container.decode(String.self, forKey: .password)))
        case "register":
            self.init(
                id: id,
                message: .register(
                    username: try container.decode(String.self, forKey: .username),
                    password: try container.decode(String.self, forKey: .password)))
        case "download_tempid":
            self.init(id: id, message: .downloadTempID)
        case "upload_contact_log":
            let entries = try container.decode([LenientUploadEntry].self, forKey: .entries)
            self.init(
                id: id,
                message: .uploadContactLog(
                    entries.map(\.entry), code: try container.decodeIfPresent(String.self, forKey: .code)))
        case "logout":
            self.init(id: id, message: .logout)
        case "acknowledge_notice":
            self.init(
                id: id,
                message: .acknowledgeNotice(
                    noticeID: try integerField(.noticeID, in: container) {
                        try container.decode(Int64.self, forKey: .noticeID)
                    }))
        default:
            throw MessageDecodingError(
                code: .unknownType,
                message: "unknown message type \"\(type)\"; expected login, register, download_tempid, "
                    + "upload_contact_log or logout",
                requestID: id)
        }
    }
}

/// The fields of one uploaded entry as read (by `JSONDecoder` or the fast reader), and the entry they make: the one
/// place that decides whether an entry is malformed, and why.
struct UploadEntryFields {
    /// The optional `received` field.
    enum Received {
        case absent
        case time(Int64)
        case invalid
    }

    /// `tempID`, if it is a string (and not read as `decimalTempID`).
    var tempID: String?
    /// `tempID`, when a reader that knows them made it straight from its 20 digits.
    var decimalTempID: TempID?
    /// `start`, if it is an integer in range.
    var start: Int64?
    /// `expiry`, if it is an integer in range.
    var expiry: Int64?
    var received: Received

    var entry: UploadEntry {
        guard let tempID = decimalTempID ?? self.tempID.flatMap({ TempID($0) }) else {
            return .malformed(
                tempID: self.tempID, reason: "tempID must be 1–256 printable ASCII characters without spaces")
        }
        guard let start, let expiry else {
            return .malformed(tempID: tempID.rawValue, reason: "start and expiry must be Unix times in seconds")
        }
        guard start <= expiry else { return .malformed(tempID: tempID.rawValue, reason: "expiry is before start") }
        let receivedAt: Timestamp?
        switch received {
        case .absent: receivedAt = nil
        case .time(let seconds): receivedAt = Timestamp(secondsSinceEpoch: seconds)
        case .invalid: return .malformed(tempID: tempID.rawValue, reason: "received must be a Unix time in seconds")
        }
        return .encounter(
            ReportedEncounter(
                tempID: tempID,
                validity: ValidityWindow(
                    start: Timestamp(secondsSinceEpoch: start), expiry: Timestamp(secondsSinceEpoch: expiry)),
                receivedAt: receivedAt))
    }
}

/// Decodes one upload entry without failing the whole upload: a bad entry becomes `.malformed` with the reason.
private struct LenientUploadEntry: Decodable {
    var entry: UploadEntry

    init(from decoder: any Decoder) throws {
        guard let container = try? decoder.container(keyedBy: Field.self) else {
            entry = .malformed(tempID: nil, reason: "entry is not a JSON object")
            return
        }
        let received: UploadEntryFields.Received
        if !container.contains(.received) {
            received = .absent
        } else if let value = try? container.decodeIfPresent(Int64.self, forKey: .received) {
            received = .time(value)
        } else if (try? container.decodeNil(forKey: .received)) == true {
            received = .absent
        } else {
            received = .invalid
        }
        entry =
            UploadEntryFields(
                tempID: try? container.decodeIfPresent(String.self, forKey: .tempID),
                start: try? container.decode(Int64.self, forKey: .start),
                expiry: try? container.decode(Int64.self, forKey: .expiry),
                received: received
            ).entry
    }
}

extension ServerFrame: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        let id = try container.decodeIfPresent(UInt64.self, forKey: .id)
        let type = try container.decode(String.self, forKey: .type)
        let message: ServerMessage
        switch type {
        case "welcome":
            message = .welcome(
                message: try container.decode(String.self, forKey: .message),
                notices: try container.decodeIfPresent([WireNotice].self, forKey: .notices) ?? [])
        case "tempid":
            message = .tempID(
                try container.decode(TempID.self, forKey: .tempID),
                ValidityWindow(
                    start: try container.decode(Timestamp.self, forKey: .start),
                    expiry: try container.decode(Timestamp.self, forKey: .expiry)),
                following: try container.decodeIfPresent([IssuedTempID].self, forKey: .following) ?? [])
        case "registered":
            message = .registered(message: try container.decode(String.self, forKey: .message))
        case "upload_receipt":
            message = .uploadReceipt(
                UploadReceipt(
                    received: try container.decode(Int.self, forKey: .received),
                    matched: try container.decode(Int.self, forKey: .matched),
                    unmatched: try container.decode([UnmatchedEntry].self, forKey: .unmatched)))
        case "logged_out":
            message = .loggedOut
        case "error":
            message = .error(
                try container.decode(WireErrorCode.self, forKey: .code),
                message: try container.decode(String.self, forKey: .message))
        case "going_away":
            message = .goingAway(message: try container.decode(String.self, forKey: .message))
        case "exposure_notice":
            message = .exposureNotice(
                noticeID: try container.decode(Int64.self, forKey: .noticeID),
                lastEncounter: try container.decode(Timestamp.self, forKey: .lastEncounter))
        case "notice_acknowledged":
            message = .noticeAcknowledged
        default:
            throw MessageDecodingError(
                code: .unknownType, message: "unknown message type \"\(type)\"", requestID: id)
        }
        self.init(id: id, message: message)
    }
}

extension IssuedTempID: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        self.init(
            tempID: try container.decode(TempID.self, forKey: .tempID),
            validity: ValidityWindow(
                start: try container.decode(Timestamp.self, forKey: .start),
                expiry: try container.decode(Timestamp.self, forKey: .expiry)))
    }
}

extension UnmatchedEntry: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        self.init(
            index: try container.decode(Int.self, forKey: .index),
            tempID: try container.decodeIfPresent(String.self, forKey: .tempID),
            reason: try container.decode(UnmatchedReason.self, forKey: .reason),
            detail: try container.decodeIfPresent(String.self, forKey: .detail))
    }
}

/// Converts messages to and from the JSON payload of a frame.
public struct MessageCoder: Sendable {
    // Shared by every coder (JSONDecoder is Sendable): each connection has two coders, and the common messages never
    // need Foundation's, so there is no reason to keep one per connection.
    private static let decoder = JSONDecoder()

    /// Creates a coder.
    public init() {}

    /// Reads a message from a frame's payload, or says precisely why it cannot.
    public func decode<Message: Decodable>(
        _ type: Message.Type, from payload: ByteBuffer
    ) throws(MessageDecodingError)
        -> Message
    {
        try decodeWithFoundation(type, from: payload)
    }

    /// Reads a message through `JSONDecoder`, explaining any error.
    public func decodeWithFoundation<Message: Decodable>(
        _ type: Message.Type, from payload: ByteBuffer
    ) throws(MessageDecodingError)
        -> Message
    {
        do {
            return try Self.decoder.decode(Message.self, from: payload)
        } catch let error as MessageDecodingError {
            throw error
        } catch let error as DecodingError {
            throw MessageDecodingError(
                code: .badRequest, message: Self.explain(error), requestID: requestID(in: payload))
        } catch {
            throw MessageDecodingError(code: .badRequest, message: "invalid JSON", requestID: nil)
        }
    }

    /// Reads a protocol message from a frame's payload: its common flat forms directly, everything else (and every
    /// error) through `JSONDecoder`.
    public func decode<Message: JSONFrameDecodable>(
        _ type: Message.Type, from payload: ByteBuffer
    ) throws(MessageDecodingError) -> Message {
        if let object = FlatJSONObject(payload), let message = Message(flatJSON: object) { return message }
        return try decodeWithFoundation(type, from: payload)
    }

    /// Writes a protocol message as a frame payload, by its own hand-written JSON.
    public func encode<Message: JSONFrameEncodable>(_ message: Message, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 128)
        message.writeJSON(into: &buffer)
        return buffer
    }

    private struct RequestIDOnly: Decodable {
        var id: UInt64?
    }

    private func requestID(in payload: ByteBuffer) -> UInt64? {
        (try? Self.decoder.decode(RequestIDOnly.self, from: payload))?.id
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "message" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field \"\(key.stringValue)\"\(parent)"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "field \(path(context)) must be \(Self.name(of: type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "invalid JSON" : "invalid value at \(path(context))"
        @unknown default:
            return "invalid message"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is UInt64.Type, is Int.Type, is Int64.Type: "an integer"
        case is [Any].Type: "an array"
        default: "of type \(type)"
        }
    }
}

extension WireNotice: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        self.init(
            noticeID: try container.decode(Int64.self, forKey: .noticeID),
            lastEncounter: try container.decode(Timestamp.self, forKey: .lastEncounter))
    }
}
