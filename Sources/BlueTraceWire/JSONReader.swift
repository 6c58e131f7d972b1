import BlueTraceDomain
import Dispatch
import NIOCore
import Synchronization

/// A message that can read the common, flat form of itself without `JSONDecoder`.
///
/// `init(flatJSON:)` returns `nil` whenever it is not sure (nested values, `null`, fractions, duplicate keys, a field of
/// the wrong type, anything invalid), and the message is then decoded by `JSONDecoder`, which also explains errors. So
/// the fast path never changes what a payload means; `FuzzMessageDecoder` and the tests check exactly that.
public protocol JSONFrameDecodable: Decodable {
    /// Reads the message from `object`, or returns `nil` to leave it to `JSONDecoder`.
    init?(flatJSON object: FlatJSONObject)
}

/// A JSON object whose values are strings, integers, or (at the top level only) arrays of such objects, read from a
/// payload in one pass: every protocol message, uploads included. An array is checked in that pass but kept as its
/// bytes, its elements made only when visited (`FlatJSONArray`).
public struct FlatJSONObject {
    /// A field's value.
    public enum Value {
        /// A string, unescaped.
        case string(String)
        /// An integer written without fraction or exponent.
        case integer(Int64)
        /// An integer above `Int64.max` (up to `UInt64.max`).
        case largeInteger(UInt64)
        /// An array of flat objects (a top-level field only).
        case objects(FlatJSONArray)

        /// The string, if this is one.
        public var string: String? {
            guard case .string(let value) = self else { return nil }
            return value
        }

        /// The integer if this is one that fits `Integer`.
        public func integer<Integer: FixedWidthInteger>(as type: Integer.Type = Integer.self) -> Integer? {
            switch self {
            case .integer(let value): Integer(exactly: value)
            case .largeInteger(let value): Integer(exactly: value)
            case .string, .objects: nil
            }
        }
    }

    fileprivate var fields: [(key: String, value: Value)] = []

    /// Reads `payload` as one flat JSON object; `nil` if it is anything else (or not valid JSON).
    public init?(_ payload: ByteBuffer) {
        self.init(payload, checkingInPartsFrom: FlatJSONArray.bytesCheckedInParts)
    }

    /// Reads `payload` as `init(_:)` does, checking an array in parts side by side when at least `partsFrom` bytes of
    /// the payload remain where it starts (tests choose; `.max` checks every array in one pass).
    init?(_ payload: ByteBuffer, checkingInPartsFrom partsFrom: Int) {
        let parsed: [(key: String, value: Value)]? = payload.withUnsafeReadableBytes { bytes in
            var reader = Reader(bytes: bytes, payload: payload, checkingInPartsFrom: partsFrom)
            guard let fields = reader.object(allowingArrays: true) else { return nil }
            reader.skipSpace()
            return reader.isAtEnd ? fields : nil
        }
        guard let parsed else { return nil }
        fields = parsed
    }

    fileprivate init(fields: [(key: String, value: Value)]) {
        self.fields = fields
    }

    /// The value of `key`, if present.
    public subscript(key: String) -> Value? {
        fields.first { Self.same($0.key, key) }?.value
    }

    /// The string field `key`; `nil` if absent or not a string.
    public func string(_ key: String) -> String? {
        self[key]?.string
    }

    /// The integer field `key` if it fits `Integer`; `nil` if absent, not an integer, or out of range.
    public func integer<Integer: FixedWidthInteger>(_ key: String, as type: Integer.Type = Integer.self) -> Integer? {
        self[key]?.integer()
    }

    /// The array-of-objects field `key`; `nil` if absent or anything else.
    public func objects(_ key: String) -> FlatJSONArray? {
        guard case .objects(let value) = self[key] else { return nil }
        return value
    }

    /// Whether two keys are the same: their lengths first (known without reading them), so that most different keys
    /// are told apart without comparing their characters.
    fileprivate static func same(_ one: String, _ other: String) -> Bool {
        one.utf8.count == other.utf8.count && one == other
    }

    /// Whether `key` is present at all.
    public func has(_ key: String) -> Bool { self[key] != nil }

    fileprivate struct Reader {
        let bytes: UnsafeRawBufferPointer
        /// The payload `bytes` are the readable bytes of, kept by the arrays read from it.
        let payload: ByteBuffer
        var position = 0
        /// An array is checked in parts side by side when at least this many bytes remain where its first element
        /// starts.
        let checkingInPartsFrom: Int
        /// The TempIDs read last, when reading an upload's entries: a repeat shares the string read first.
        var recentTempIDs: RecentStrings?

        init(bytes: UnsafeRawBufferPointer, payload: ByteBuffer, position: Int = 0, checkingInPartsFrom: Int = .max) {
            self.bytes = bytes
            self.payload = payload
            self.position = position
            self.checkingInPartsFrom = checkingInPartsFrom
        }

        var isAtEnd: Bool { position == bytes.count }

        /// An object; arrays of objects among its values only if `allowingArrays` (one level of nesting).
        mutating func object(allowingArrays: Bool) -> [(key: String, value: Value)]? {
            var fields: [(key: String, value: Value)] = []
            return object(allowingArrays: allowingArrays, into: &fields, keepingStrings: true) ? fields : nil
        }

        /// Reads an object into `fields` (emptied first, its storage kept); `false` if it is not a flat object. Without
        /// `keepingStrings`, string values are checked but not made (each is an empty string): how an array's
        /// elements are checked without building them.
        mutating func object(
            allowingArrays: Bool, into fields: inout [(key: String, value: Value)], keepingStrings: Bool
        ) -> Bool {
            fields.removeAll(keepingCapacity: true)
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return false }
            skipSpace()
            if !take(UInt8(ascii: "}")) {
                repeat {
                    skipSpace()
                    guard let key = string() else { return false }
                    // A repeated key: leave its meaning to the full decoder.
                    guard !fields.contains(where: { FlatJSONObject.same($0.key, key) }) else { return false }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return false }
                    skipSpace()
                    guard let value = value(allowingArrays: allowingArrays, keepingStrings: keepingStrings) else {
                        return false
                    }
                    fields.append((key, value))
                    skipSpace()
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return false }
            }
            return true
        }

        private mutating func value(allowingArrays: Bool, keepingStrings: Bool) -> Value? {
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "\""): return keepingStrings ? string().map(Value.string) : skipString()
            case UInt8(ascii: "["): return allowingArrays ? array().map(Value.objects) : nil
            default: return integer()
            }
        }

        /// An array whose elements are all flat objects: each is read to check it, then let go; the array keeps
        /// where it lies in the payload. A large array is checked in parts side by side (`elementsCheckedInParts`),
        /// and in one pass whenever those parts do not prove themselves.
        private mutating func array() -> FlatJSONArray? {
            guard take(UInt8(ascii: "[")) else { return nil }
            let start = position
            skipSpace()
            if take(UInt8(ascii: "]")) {
                return FlatJSONArray(payload: payload, start: start, count: 0, checkpoints: [], checkedInParts: 0)
            }
            var run = ElementRun()
            var parts = 1
            if bytes.count - position >= checkingInPartsFrom, let checked = elementsCheckedInParts() {
                (run, position, parts) = checked
            } else {
                guard checkElements(stoppingAt: .max, into: &run) == .lastElement else { return nil }
            }
            return take(UInt8(ascii: "]"))
                ? FlatJSONArray(
                    payload: payload, start: start, count: run.count, checkpoints: run.checkpoints,
                    checkedInParts: parts)
                : nil
        }

        /// Elements of an array checked one after another: how many, and where each `checkpointStride`-th of them
        /// starts (numbered from the first element checked).
        struct ElementRun {
            var count = 0
            var checkpoints: [FlatJSONArray.Checkpoint] = []
        }

        /// How a run of `checkElements` ended.
        enum ElementRunEnd {
            /// No comma followed the last element read: the position is after it and the spaces after it.
            case lastElement
            /// The next element starts where the run was told to stop, and the position is there.
            case reachedStop
            /// An element is not a flat object, or the next element starts beyond where the run was to stop.
            case invalid
        }

        /// Checks the array's elements from the one starting at the position (spaces skipped), counting them into
        /// `run`, until one is followed by no comma, or the next one starts at `stop`. Upload entries of the usual
        /// shape are checked without making their keys; any other element is checked as the flat object it must be.
        mutating func checkElements(stoppingAt stop: Int, into run: inout ElementRun) -> ElementRunEnd {
            var fields: [(key: String, value: Value)] = []
            while true {
                let elementStart = position
                if run.count % FlatJSONArray.checkpointStride == 0 {
                    run.checkpoints.append(FlatJSONArray.Checkpoint(index: run.count, position: elementStart))
                }
                if uploadEntryFields(keepingStrings: false) == nil {
                    position = elementStart
                    guard object(allowingArrays: false, into: &fields, keepingStrings: false) else { return .invalid }
                }
                run.count += 1
                skipSpace()
                guard take(UInt8(ascii: ",")) else { return .lastElement }
                skipSpace()
                if position >= stop { return position == stop ? .reachedStop : .invalid }
            }
        }

        /// Checks the array's elements from the first one (at the position) to its last in parts side by side, as
        /// `checkElements` would in one pass: the run, the position after the last element, and how many parts; or
        /// `nil`, the position unchanged, when the parts do not prove themselves (or an element is invalid), and one
        /// pass must decide.
        ///
        /// The bytes are cut at even offsets, and each later part starts at the first `}` `,` `{` after its cut (any
        /// spaces between): where an element would start if that comma were between elements, though it may lie in a
        /// string. Each part checks elements until the next one starts where the next part does. The first part starts
        /// at a true element, so when it stops exactly at the second part's start, that start is a true element's
        /// too, and the second part checks what one pass would check from there; and so on: the parts prove
        /// themselves when every part but the last stops exactly at the next one's start and the last ends the array.
        private func elementsCheckedInParts() -> (run: ElementRun, end: Int, parts: Int)? {
            let first = position
            let partLength = (bytes.count - first) / FlatJSONArray.checkedParts
            var starts = [first]
            for part in 1..<FlatJSONArray.checkedParts {
                let cut = first + part * partLength
                if let start = elementStartCandidate(from: cut, before: cut + partLength),
                    start > starts[starts.count - 1]
                {
                    starts.append(start)
                }
            }
            guard starts.count > 1 else { return nil }
            let partStarts = starts
            let ends = Mutex<[(run: ElementRun, end: ElementRunEnd, position: Int)?]>(
                Array(repeating: nil, count: starts.count))
            let shared = SharedBytes(bytes: bytes)
            let payload = payload
            DispatchQueue.concurrentPerform(iterations: starts.count) { part in
                var reader = Reader(bytes: shared.bytes, payload: payload, position: partStarts[part])
                var run = ElementRun()
                let end = reader.checkElements(
                    stoppingAt: part + 1 < partStarts.count ? partStarts[part + 1] : .max, into: &run)
                let position = reader.position
                ends.withLock { $0[part] = (run, end, position) }
            }
            var run = ElementRun()
            var end = first
            for (part, checked) in ends.withLock({ $0 }).enumerated() {
                guard let checked, checked.end == (part + 1 < starts.count ? .reachedStop : .lastElement) else {
                    return nil
                }
                for checkpoint in checked.run.checkpoints {
                    run.checkpoints.append(
                        FlatJSONArray.Checkpoint(index: run.count + checkpoint.index, position: checkpoint.position))
                }
                run.count += checked.run.count
                end = checked.position
            }
            return (run, end, starts.count)
        }

        /// The position of the first `{` in `from..<before` that follows `}` and a comma (spaces, as `skipSpace`
        /// skips them, allowed around the comma); `nil` if there is none. The position itself is left as it is.
        private func elementStartCandidate(from: Int, before: Int) -> Int? {
            var probe = self
            for index in from..<min(before, bytes.count) where bytes[index] == UInt8(ascii: "}") {
                probe.position = index + 1
                probe.skipSpace()
                guard probe.take(UInt8(ascii: ",")) else { continue }
                probe.skipSpace()
                if probe.position < bytes.count, bytes[probe.position] == UInt8(ascii: "{") { return probe.position }
            }
            return nil
        }

        /// The payload's bytes, read by the parts of `elementsCheckedInParts`.
        ///
        /// `@unchecked Sendable`, and safe: the bytes are only read, and stay valid until every part is done
        /// (`concurrentPerform` returns only then, inside the `withUnsafeReadableBytes` of `FlatJSONObject.init`).
        private struct SharedBytes: @unchecked Sendable {
            let bytes: UnsafeRawBufferPointer
        }

        /// Checks a string as `string()` reads it without making it: `.string("")` if it is a valid string. A string
        /// of plain ASCII (every TempID) is checked by one scan; any other is read in full.
        private mutating func skipString() -> Value? {
            let start = position
            position += 1
            while position < bytes.count, case let byte = bytes[position], byte != UInt8(ascii: "\""),
                byte != UInt8(ascii: "\\"), byte >= 0x20, byte < 0x80
            {
                position += 1
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
                position += 1
                return .string("")
            }
            position = start
            return string().map { _ in .string("") }
        }

        /// An integer without sign games, leading zeros, fraction or exponent; anything else is left to the decoder.
        private mutating func integer() -> Value? {
            switch number() {
            case .int64(let value): .integer(value)
            case .beyondInt64(let value): .largeInteger(value)
            case nil: nil
            }
        }

        /// An integer as `integer()` reads it.
        enum Number {
            /// One that fits `Int64`.
            case int64(Int64)
            /// One above `Int64.max` (up to `UInt64.max`).
            case beyondInt64(UInt64)

            /// The integer, if it fits `Int64`.
            var int64: Int64? {
                guard case .int64(let value) = self else { return nil }
                return value
            }
        }

        /// Reads an integer as `integer()` does, as a `Number` (which, unlike a `Value`, is copied as plain bits).
        private mutating func number() -> Number? {
            let negative = take(UInt8(ascii: "-"))
            let start = position
            var magnitude: UInt64 = 0
            // Nineteen digits never overflow a UInt64 (twenty may): those are read without checking.
            let unchecked = min(bytes.count, start + 19)
            while position < unchecked, case let digit = bytes[position] &- UInt8(ascii: "0"), digit < 10 {
                magnitude = magnitude &* 10 &+ UInt64(digit)
                position += 1
            }
            while position < bytes.count, case let digit = bytes[position] &- UInt8(ascii: "0"), digit < 10 {
                let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
                guard !overflow1, !overflow2 else { return nil }
                magnitude = sum
                position += 1
            }
            let digits = position - start
            guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
            if position < bytes.count, case let next = bytes[position],
                next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E")
            {
                return nil
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1, magnitude != 0 else { return nil }
                return .int64(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
            }
            return magnitude <= UInt64(Int64.max) ? .int64(Int64(magnitude)) : .beyondInt64(magnitude)
        }

        /// A string, unescaped; `nil` for invalid UTF-8, raw control characters, bad escapes or lone surrogates.
        private mutating func string(sharingRepeats: Bool = false) -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            var highBits: UInt8 = 0
            while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\"),
                bytes[position] >= 0x20
            {
                highBits |= bytes[position]
                position += 1
            }
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "\"") {
                defer { position += 1 }
                let utf8 = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                // Plain ASCII (every key, every TempID) is valid UTF-8 as it stands: made without validating it again.
                if highBits < 0x80 {
                    if sharingRepeats, recentTempIDs != nil { return recentTempIDs!.string(of: utf8) }
                    return String(decoding: utf8.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
                }
                return String(validating: utf8, as: UTF8.self)
            }
            var utf8 = Array(bytes[start..<position])
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let scalar = escape() else { return nil }
                    utf8.append(contentsOf: String(Character(scalar)).utf8)
                case ..<0x20:
                    return nil
                default:
                    utf8.append(byte)
                }
            }
            return nil
        }

        /// The character after a backslash (already read).
        private mutating func escape() -> Unicode.Scalar? {
            guard position < bytes.count else { return nil }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{8}"
            case UInt8(ascii: "f"): return "\u{C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return nil }
                switch unit {
                case 0xD800...0xDBFF:
                    guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(),
                        (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    return Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                case 0xDC00...0xDFFF:
                    return nil
                default:
                    return Unicode.Scalar(unit)
                }
            default:
                return nil
            }
        }

        private mutating func hex4() -> UInt16? {
            guard position + 4 <= bytes.count else { return nil }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
                position += 1
            }
            return value
        }

        /// An upload entry of the usual shape (see `FlatJSONArray.uploadEntries`), read up to its closing brace; `nil`,
        /// leaving the position anywhere, for any element of another shape.
        mutating func uploadEntry() -> UploadEntry? {
            uploadEntryFields(keepingStrings: true)?.entry
        }

        /// The fields of an object of the usual upload-entry shape (only the keys `tempID`, `start`, `expiry` and
        /// `received`, each at most once, written without escapes), read up to its closing brace and judged as
        /// `UploadEntryFields(tempID:start:expiry:received:)` judges a flat object's values; `nil`, leaving the
        /// position anywhere, for any other element (the object reader then decides). Without `keepingStrings`,
        /// strings are checked but not made (a string `tempID` is then empty). Whatever this reads, `object` would
        /// read too, with the same values. Each value is read straight into its field, never made into a `Value`.
        mutating func uploadEntryFields(keepingStrings: Bool) -> UploadEntryFields? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var seen: UInt8 = 0
            var fields = UploadEntryFields(tempID: nil, start: nil, expiry: nil, received: .absent)
            skipSpace()
            if !take(UInt8(ascii: "}")) {
                repeat {
                    skipSpace()
                    guard take(UInt8(ascii: "\"")) else { return nil }
                    let keyStart = position
                    while position < bytes.count, bytes[position] != UInt8(ascii: "\""),
                        bytes[position] != UInt8(ascii: "\\")
                    {
                        position += 1
                    }
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
                    let key = UnsafeRawBufferPointer(rebasing: bytes[keyStart..<position])
                    position += 1
                    let field: UInt8 =
                        if Self.matches(key, "tempID") {
                            1
                        } else if Self.matches(key, "start") {
                            2
                        } else if Self.matches(key, "expiry") {
                            4
                        } else if Self.matches(key, "received") {
                            8
                        } else {
                            0
                        }
                    guard field != 0, seen & field == 0 else { return nil }
                    seen |= field
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    guard position < bytes.count else { return nil }
                    if bytes[position] == UInt8(ascii: "\"") {
                        // A string: kept only as the TempID; in any other field it is the wrong type.
                        if field == 1, keepingStrings {
                            if let tempID = decimalTempID() {
                                fields.decimalTempID = tempID
                            } else {
                                guard let tempID = string(sharingRepeats: true) else { return nil }
                                fields.tempID = tempID
                            }
                        } else {
                            guard skipString() != nil else { return nil }
                            if field == 1 { fields.tempID = "" }
                            if field == 8 { fields.received = .invalid }
                        }
                    } else {
                        // Anything else must be an integer (an array or an object is not a flat object's value).
                        guard let number = number() else { return nil }
                        switch field {
                        case 2: fields.start = number.int64
                        case 4: fields.expiry = number.int64
                        case 8: fields.received = number.int64.map(UploadEntryFields.Received.time) ?? .invalid
                        default: break
                        }
                    }
                    skipSpace()
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
            return fields
        }

        /// The 20-digit TempID of the string at `position` when it is one, written without escapes (as every one is),
        /// made from its digits without a `String`; `nil`, and nothing read, when the string is anything else.
        private mutating func decimalTempID() -> TempID? {
            let end = position + 1 + TempID.decimalLength
            guard end < bytes.count, bytes[end] == UInt8(ascii: "\""),
                let tempID = TempID(decimalUTF8: UnsafeRawBufferPointer(rebasing: bytes[position + 1..<end]))
            else { return nil }
            position = end + 1
            return tempID
        }

        /// Whether the bytes of `key` are those of `name`: lengths first, then the bytes of two buffers.
        private static func matches(_ key: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
            guard key.count == name.utf8CodeUnitCount else { return false }
            return name.withUTF8Buffer { utf8 in
                for index in 0..<key.count where key[index] != utf8[index] { return false }
                return true
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func skipSpace() {
            while position < bytes.count,
                bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D || bytes[position] == 0x09
            {
                position += 1
            }
        }
    }
}

/// An array of flat objects in a payload, checked when the payload was read but kept as its bytes: its elements are made
/// one at a time when visited, so a million-entry upload is not held as a million objects beside its payload.
public struct FlatJSONArray: Sendable {
    /// The payload the array lies in (its storage shared, not copied).
    private let payload: ByteBuffer
    /// Where its elements start among the payload's readable bytes: just after the `[`.
    private let start: Int
    /// How many elements it has.
    public let count: Int
    /// Where elements start, the first among them: noted every `checkpointStride` elements as the array is checked
    /// (and where each part of that check began), so that its elements can be read in parts side by side.
    private let checkpoints: [Checkpoint]
    /// The first element of each part `uploadEntries` reads side by side (one per checkpoint) for a large array.
    var partStarts: [Int] { checkpoints.map(\.index) }
    /// How many parts the array was checked in, side by side (1: in one pass; 0: it is empty).
    let checkedInParts: Int
    /// Elements between two checkpoints (at most).
    static let checkpointStride = 16_384
    /// Arrays of at least this many elements are read as upload entries in parts, across the cores.
    static let entriesReadInParts = 65_536
    /// Arrays with at least this many bytes from their first element to the payload's end are checked in parts.
    static let bytesCheckedInParts = 1 << 20
    /// How many parts a large array is checked in: a few per core, so that a part held up by a busy core leaves
    /// little behind it.
    static let checkedParts = max(2, System.coreCount) * 4

    /// Where an element starts among the payload's readable bytes, and its number in the array.
    struct Checkpoint: Sendable {
        let index: Int
        let position: Int
    }

    fileprivate init(payload: ByteBuffer, start: Int, count: Int, checkpoints: [Checkpoint], checkedInParts: Int) {
        self.payload = payload
        self.start = start
        self.count = count
        self.checkpoints = checkpoints
        self.checkedInParts = checkedInParts
    }

    /// The elements as upload entries, each judged as `UploadEntry(flatJSON:)` judges it. An element of the usual
    /// shape (the keys `tempID`, `start`, `expiry`, `received`, each at most once, without escapes) is read straight
    /// into its entry, its keys matched as bytes and never made into strings; any other element is read as a
    /// `FlatJSONObject`, as `map` would. An array of at least `partsFrom` elements is read in parts across the cores,
    /// each from a checkpoint, every entry written into its place.
    func uploadEntries(inPartsFrom partsFrom: Int = entriesReadInParts) -> [UploadEntry] {
        payload.withUnsafeReadableBytes { bytes in
            guard count >= partsFrom, checkpoints.count > 1 else {
                var entries: [UploadEntry] = []
                entries.reserveCapacity(count)
                read(0..<count, from: start, of: bytes) { _, entry in entries.append(entry) }
                return entries
            }
            return [UploadEntry](unsafeUninitializedCapacity: count) { entries, initialized in
                let shared = SharedMemory(bytes: bytes, entries: entries.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: checkpoints.count) { part in
                    let end = part + 1 < checkpoints.count ? checkpoints[part + 1].index : count
                    let checkpoint = checkpoints[part]
                    read(checkpoint.index..<end, from: checkpoint.position, of: shared.bytes) { index, entry in
                        (shared.entries + index).initialize(to: entry)
                    }
                }
                initialized = count
            }
        }
    }

    /// The payload's bytes and the entries being made, shared by the parts of `uploadEntries`.
    ///
    /// `@unchecked Sendable`, and safe: `bytes` are only read, and stay valid until every part is done
    /// (`concurrentPerform` returns only then, inside `withUnsafeReadableBytes`); each part initializes only the
    /// entries of its own range, each once, so no two threads ever touch the same memory.
    private struct SharedMemory: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        let entries: UnsafeMutablePointer<UploadEntry>
    }

    /// Reads the elements numbered `range`, the first of which starts at `position` (or after spaces there), handing
    /// each to `body` with its number.
    private func read(
        _ range: Range<Int>, from position: Int, of bytes: UnsafeRawBufferPointer, _ body: (Int, UploadEntry) -> Void
    ) {
        var reader = FlatJSONObject.Reader(bytes: bytes, payload: payload, position: position)
        reader.recentTempIDs = RecentStrings()
        var element = FlatJSONObject(fields: [])
        for index in range {
            reader.skipSpace()
            if index > range.lowerBound { _ = reader.take(UInt8(ascii: ",")) }
            let elementStart = reader.position
            if let entry = reader.uploadEntry() {
                body(index, entry)
                continue
            }
            reader.position = elementStart
            let read = reader.object(allowingArrays: false, into: &element.fields, keepingStrings: true)
            precondition(read, "an array's element changed between checking and reading it")
            body(index, UploadEntry(flatJSON: element))
        }
    }
}

extension ClientFrame: JSONFrameDecodable {
    public init?(flatJSON object: FlatJSONObject) {
        guard let id = object.integer("id", as: UInt64.self), let type = object.string("type") else { return nil }
        if object.has("v") {
            guard object.integer("v", as: Int.self) == ProtocolVersion.current else { return nil }
        }
        switch type {
        case "login", "register":
            guard let username = object.string("username"), let password = object.string("password") else {
                return nil
            }
            self.init(
                id: id,
                message: type == "login"
                    ? .login(username: username, password: password)
                    : .register(username: username, password: password))
        case "download_tempid":
            self.init(id: id, message: .downloadTempID)
        case "upload_contact_log":
            guard let entries = object.objects("entries") else { return nil }
            let code = object.string("code")
            guard code != nil || !object.has("code") else { return nil }
            self.init(id: id, message: .uploadContactLog(entries.uploadEntries(), code: code))
        case "logout":
            self.init(id: id, message: .logout)
        case "acknowledge_notice":
            guard let noticeID = object.integer("noticeID", as: Int64.self) else { return nil }
            self.init(id: id, message: .acknowledgeNotice(noticeID: noticeID))
        default:
            return nil
        }
    }
}

extension ServerFrame: JSONFrameDecodable {
    public init?(flatJSON object: FlatJSONObject) {
        guard let type = object.string("type") else { return nil }
        var id: UInt64?
        if object.has("id") {
            guard let value = object.integer("id", as: UInt64.self) else { return nil }
            id = value
        }
        let message: ServerMessage
        switch type {
        case "welcome", "registered", "going_away":
            guard let text = object.string("message"), !object.has("notices") else { return nil }
            message =
                switch type {
                case "welcome": .welcome(message: text)
                case "registered": .registered(message: text)
                default: .goingAway(message: text)
                }
        case "tempid":
            guard !object.has("following"), let raw = object.string("tempID"), let tempID = TempID(raw),
                let start = object.integer("start", as: Int64.self),
                let expiry = object.integer("expiry", as: Int64.self)
            else { return nil }
            message = .tempID(
                tempID,
                ValidityWindow(start: Timestamp(secondsSinceEpoch: start), expiry: Timestamp(secondsSinceEpoch: expiry))
            )
        case "logged_out":
            message = .loggedOut
        case "notice_acknowledged":
            message = .noticeAcknowledged
        case "exposure_notice":
            guard let noticeID = object.integer("noticeID", as: Int64.self),
                let last = object.integer("lastEncounter", as: Int64.self)
            else { return nil }
            message = .exposureNotice(noticeID: noticeID, lastEncounter: Timestamp(secondsSinceEpoch: last))
        case "error":
            guard let code = object.string("code"), let text = object.string("message") else { return nil }
            message = .error(WireErrorCode(rawValue: code) ?? .unknown, message: text)
        default:
            return nil
        }
        self.init(id: id, message: message)
    }
}

extension UploadEntry {
    /// One uploaded entry, judged as `JSONDecoder`'s path judges it (`UploadEntryFields`).
    init(flatJSON entry: FlatJSONObject) {
        self =
            UploadEntryFields(
                tempID: entry["tempID"], start: entry["start"], expiry: entry["expiry"], received: entry["received"]
            ).entry
    }
}

extension UploadEntryFields {
    /// The fields of an entry from the values a flat reader found for its keys (`nil` where a key is absent).
    init(
        tempID: FlatJSONObject.Value?, start: FlatJSONObject.Value?, expiry: FlatJSONObject.Value?,
        received: FlatJSONObject.Value?
    ) {
        self.init(
            tempID: tempID?.string, start: start?.integer(), expiry: expiry?.integer(),
            received: received.map { $0.integer().map(Received.time) ?? .invalid } ?? .absent)
    }
}
