import BlueTraceDomain
import NIOCore
import Testing

@testable import BlueTraceWire

@Suite("Upload entries read in parts")
struct FlatJSONArrayTests {
    /// An upload of `count` entries of every shape: the usual one, with odd spacing, with an escaped key (read the
    /// slow way), with a missing or mistyped field, with an extra field.
    static func upload(count: Int) -> String {
        var json = #"{"v":1,"type":"upload_contact_log","id":7,"entries":["#
        for index in 0..<count {
            if index > 0 { json += index % 7 == 0 ? " ,\n " : "," }
            let tempID = String(100_000_000_000 + index)
            let start = 1_589_391_906 + index
            switch index % 13 {
            case 3:
                json += #"{"tempI\u0044":"\#(tempID)","start":\#(start),"expiry":\#(start + 899)}"#
            case 5:
                json += #"{"tempID":"\#(tempID)","start":\#(start)}"#
            case 8:
                json += #"{"tempID":\#(index),"start":\#(start),"expiry":\#(start + 899)}"#
            case 11:
                json += #"{ "tempID" : "\#(tempID)", "start":\#(start), "expiry":\#(start + 899), "note":"x" }"#
            default:
                json += #"{"tempID":"\#(tempID)","start":\#(start),"expiry":\#(start + 899),"received":\#(start + 5)}"#
            }
        }
        return json + "]}"
    }

    @Test("A large upload read in parts across the cores gives every entry, in order, as one read gives")
    func partsReadAsOne() throws {
        let count = FlatJSONArray.entriesReadInParts + 3 * FlatJSONArray.checkpointStride / 2
        let object = try #require(FlatJSONObject(ByteBuffer(string: Self.upload(count: count))))
        let array = try #require(object.objects("entries"))
        #expect(array.count == count)
        let inParts = array.uploadEntries()
        let whole = array.uploadEntries(inPartsFrom: .max)
        #expect(inParts.count == count)
        #expect(inParts == whole)
        // Entries from the middle of later parts, read independently of either path.
        for index in [0, 1, FlatJSONArray.checkpointStride, count - 1] where ![5, 8].contains(index % 13) {
            guard case .encounter(let encounter) = inParts[index] else {
                Issue.record("entry \(index) is \(inParts[index])")
                continue
            }
            #expect(encounter.tempID.rawValue == String(100_000_000_000 + index))
            #expect(encounter.validity.start.secondsSinceEpoch == Int64(1_589_391_906 + index))
        }
        let malformed = inParts.enumerated().filter {
            if case .malformed = $0.element { true } else { false }
        }
        #expect(malformed.map(\.offset) == (0..<count).filter { [5, 8].contains($0 % 13) })
    }
}
