import BlueTraceDomain
import NIOCore

/// A message that writes its own JSON straight into a frame's buffer.
///
/// The protocol's messages are a handful of flat shapes, sent once per request; writing them by hand costs a fraction
/// of `JSONEncoder`'s generic machinery (which was about a tenth of the server's processor time per TempID request).
/// This is the only writer of the protocol's messages (they are not `Encodable`): tests check its output against the
/// JSON written out in them and read it back through both readers, the fast one and `JSONDecoder`.
public protocol JSONFrameEncodable {
    /// Appends this message's JSON object to `buffer`.
    func writeJSON(into buffer: inout ByteBuffer)
}

/// Writes one compact JSON object, field by field, into a `ByteBuffer`.
struct JSONObjectWriter: ~Copyable {
    private var isFirst = true

    /// Opens the object in `buffer`.
    init(_ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    /// Goes on with an object whose opening and first fields were written elsewhere: the next field follows a comma.
    init(following: Void) {
        isFirst = false
    }

    /// Closes the object.
    consuming func finish(_ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Writes `"key":` after a comma if a field came before, in one write. Keys are plain ASCII names, never escaped.
    private mutating func key(_ key: StaticString, _ buffer: inout ByteBuffer) {
        let comma = isFirst ? 0 : 1
        isFirst = false
        let count = comma + key.utf8CodeUnitCount + 3
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            if comma == 1 { bytes[0] = UInt8(ascii: ",") }
            bytes[comma] = UInt8(ascii: "\"")
            key.withUTF8Buffer { name in
                UnsafeMutableRawBufferPointer(rebasing: bytes[(comma + 1)...]).copyMemory(
                    from: UnsafeRawBufferPointer(name))
            }
            bytes[count - 2] = UInt8(ascii: "\"")
            bytes[count - 1] = UInt8(ascii: ":")
            return count
        }
    }

    mutating func field(_ name: StaticString, _ value: String, _ buffer: inout ByteBuffer) {
        key(name, &buffer)
        JSONText.writeString(value, into: &buffer)
    }

    mutating func field(_ name: StaticString, _ value: String?, _ buffer: inout ByteBuffer) {
        guard let value else { return }
        field(name, value, &buffer)
    }

    mutating func field<Integer: BinaryInteger>(_ name: StaticString, _ value: Integer, _ buffer: inout ByteBuffer) {
        key(name, &buffer)
        if let small = Int64(exactly: value) {
            JSONText.writeInteger(small, into: &buffer)
        } else {
            buffer.writeString(String(value))
        }
    }

    mutating func field<Integer: BinaryInteger>(_ name: StaticString, _ value: Integer?, _ buffer: inout ByteBuffer) {
        guard let value else { return }
        field(name, value, &buffer)
    }

    /// Writes the fields every message starts with: protocol version, type and request id (when there is one).
    mutating func envelope(type: String, id: UInt64?, _ buffer: inout ByteBuffer) {
        field("v", ProtocolVersion.current, &buffer)
        field("type", type, &buffer)
        field("id", id, &buffer)
    }

    /// Writes an array field whose elements each write themselves with `element`.
    mutating func field<Element>(
        _ name: StaticString, array: some Collection<Element>, _ buffer: inout ByteBuffer,
        element: (Element, inout ByteBuffer) -> Void
    ) {
        key(name, &buffer)
        buffer.writeInteger(UInt8(ascii: "["))
        var isFirstElement = true
        for item in array {
            if !isFirstElement { buffer.writeInteger(UInt8(ascii: ",")) }
            isFirstElement = false
            element(item, &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }
}

/// JSON string syntax.
enum JSONText {
    /// Writes `value` as a JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    static func writeString(_ value: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var clean = 0  // Start of the bytes not yet written that need no escaping.
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[clean..<index])))
                clean = index + 1
                switch byte {
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigit(byte >> 4))
                    buffer.writeInteger(hexDigit(byte & 0xF))
                }
            }
            buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[clean...])))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Writes `value` in decimal digits, as `String(value)` spells it, without making the string.
    static func writeInteger(_ value: Int64, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { bytes in
            // The magnitude as UInt64, so that Int64.min has one too.
            var magnitude = value.magnitude
            var digits: (UInt64, Int) = (magnitude, 0)
            repeat {
                digits.1 += 1
                digits.0 /= 10
            } while digits.0 > 0
            let sign = value < 0 ? 1 : 0
            if sign == 1 { bytes[0] = UInt8(ascii: "-") }
            let count = sign + digits.1
            var index = count - 1
            repeat {
                bytes[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                index -= 1
            } while magnitude > 0
            return count
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

extension ServerFrame: JSONFrameEncodable {
    public func writeJSON(into buffer: inout ByteBuffer) {
        var object = JSONObjectWriter(&buffer)
        object.envelope(type: message.type, id: id, &buffer)
        switch message {
        case .welcome(let text, let notices):
            object.field("message", text, &buffer)
            if !notices.isEmpty {
                object.field("notices", array: notices, &buffer) { notice, buffer in
                    var element = JSONObjectWriter(&buffer)
                    element.field("noticeID", notice.noticeID, &buffer)
                    element.field("lastEncounter", notice.lastEncounter.secondsSinceEpoch, &buffer)
                    element.finish(&buffer)
                }
            }
        case .goingAway(let text), .registered(let text):
            object.field("message", text, &buffer)
        case .tempID(let tempID, let validity, let following):
            object.field("tempID", tempID.rawValue, &buffer)
            object.field("start", validity.start.secondsSinceEpoch, &buffer)
            object.field("expiry", validity.expiry.secondsSinceEpoch, &buffer)
            if !following.isEmpty {
                object.field("following", array: following, &buffer) { issued, buffer in
                    var element = JSONObjectWriter(&buffer)
                    element.field("tempID", issued.tempID.rawValue, &buffer)
                    element.field("start", issued.validity.start.secondsSinceEpoch, &buffer)
                    element.field("expiry", issued.validity.expiry.secondsSinceEpoch, &buffer)
                    element.finish(&buffer)
                }
            }
        case .uploadReceipt(let receipt):
            object.field("received", receipt.received, &buffer)
            object.field("matched", receipt.matched, &buffer)
            object.field("unmatched", array: receipt.unmatched, &buffer) { entry, buffer in
                var element = JSONObjectWriter(&buffer)
                element.field("index", entry.index, &buffer)
                element.field("tempID", entry.tempID, &buffer)
                element.field("reason", entry.reason.rawValue, &buffer)
                element.field("detail", entry.detail, &buffer)
                element.finish(&buffer)
            }
        case .loggedOut, .noticeAcknowledged:
            break
        case .exposureNotice(let noticeID, let lastEncounter):
            object.field("noticeID", noticeID, &buffer)
            object.field("lastEncounter", lastEncounter.secondsSinceEpoch, &buffer)
        case .error(let code, let text):
            object.field("code", code.rawValue, &buffer)
            object.field("message", text, &buffer)
        }
        object.finish(&buffer)
    }
}

extension ClientFrame: JSONFrameEncodable {
    public func writeJSON(into buffer: inout ByteBuffer) {
        var object = JSONObjectWriter(&buffer)
        object.envelope(type: message.type, id: id, &buffer)
        message.writeFields(into: &object, &buffer)
        object.finish(&buffer)
    }
}

extension ClientMessage {
    /// Writes the fields that follow the envelope.
    func writeFields(into object: inout JSONObjectWriter, _ buffer: inout ByteBuffer) {
        switch self {
        case .login(let username, let password), .register(let username, let password):
            object.field("username", username, &buffer)
            object.field("password", password, &buffer)
        case .uploadContactLog(let entries, let code):
            if let code { object.field("code", code, &buffer) }
            object.field("entries", array: entries, &buffer) { entry, buffer in
                var element = JSONObjectWriter(&buffer)
                switch entry {
                case .encounter(let encounter):
                    element.field("tempID", encounter.tempID.rawValue, &buffer)
                    element.field("start", encounter.validity.start.secondsSinceEpoch, &buffer)
                    element.field("expiry", encounter.validity.expiry.secondsSinceEpoch, &buffer)
                    element.field("received", encounter.receivedAt?.secondsSinceEpoch, &buffer)
                case .malformed(let tempID, _):
                    element.field("tempID", tempID, &buffer)
                }
                element.finish(&buffer)
            }
        case .acknowledgeNotice(let noticeID):
            object.field("noticeID", noticeID, &buffer)
        case .downloadTempID, .logout:
            break
        }
    }
}
