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
        #expect(array.checkedInParts > 1)
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

    @Test("Repeats of a long TempID share one string; different TempIDs, however many, keep their own text")
    func repeatedTempIDsShared() throws {
        // 3,000 20-digit TempIDs (more than the table has slots, so many share one), 80-character ones, short ones,
        // and one written with an escape (read the slow way); each named by a run of three entries.
        let long = (0..<3_000).map { String(10_000_000_000_000_000_000 as UInt64 + UInt64($0) * 7_919) }
        let sealed = (0..<50).map { String(repeating: "Q", count: 76) + String(1_000 + $0) }
        let pool = long + sealed + ["short", "12345678901234567890"]
        let count = FlatJSONArray.entriesReadInParts + FlatJSONArray.checkpointStride / 2
        let named = (0..<count).map { pool[($0 / 3 * 7) % pool.count] }
        var json = #"{"v":1,"type":"upload_contact_log","id":7,"entries":["#
        for (index, tempID) in named.enumerated() {
            if index > 0 { json += "," }
            // The last of the pool, written with an escaped first digit.
            let written = tempID == pool.last! ? #"\u0031"# + tempID.dropFirst() : tempID
            json += #"{"tempID":"\#(written)","start":1589391906,"expiry":1589392805}"#
        }
        json += "]}"
        let object = try #require(FlatJSONObject(ByteBuffer(string: json)))
        let array = try #require(object.objects("entries"))
        let entries = array.uploadEntries()
        #expect(entries.count == count)

        var storage: [UnsafePointer<UInt8>?] = []
        for (index, entry) in entries.enumerated() {
            guard case .encounter(let encounter) = entry, encounter.tempID.rawValue == named[index] else {
                Issue.record("entry \(index) is \(entry), expected the TempID \(named[index])")
                return
            }
            var text = encounter.tempID.rawValue
            storage.append(text.withUTF8 { $0.baseAddress })
        }
        // A long TempID repeated by the next entry is the same string, but where a new part begins (each part keeps
        // its own table) and when it was written with an escape.
        let partStarts = Set(array.partStarts)
        #expect(partStarts.count > 1)
        let repeats = (1..<count).filter {
            named[$0] == named[$0 - 1] && named[$0].utf8.count > 15 && named[$0] != pool.last!
                && !partStarts.contains($0)
        }
        let unshared = repeats.filter { storage[$0] != storage[$0 - 1] }
        #expect(repeats.count > count / 2)
        #expect(unshared.isEmpty, "\(unshared.count) of \(repeats.count) repeats have a string of their own")
    }

    /// The entries array of `json`, checked in parts wherever it can be (`inParts`) or in one pass.
    static func entries(_ json: String, inParts: Bool) -> FlatJSONArray? {
        FlatJSONObject(ByteBuffer(string: json), checkingInPartsFrom: inParts ? 0 : .max)?.objects("entries")
    }

    @Test("An upload checked in parts side by side is the array one pass checks, and reads the same entries")
    func checkedInPartsAsOne() throws {
        let json = Self.upload(count: 3 * FlatJSONArray.checkpointStride + 101)
        let inParts = try #require(Self.entries(json, inParts: true))
        let onePass = try #require(Self.entries(json, inParts: false))
        #expect(inParts.checkedInParts == FlatJSONArray.checkedParts)
        #expect(onePass.checkedInParts == 1)
        #expect(inParts.count == onePass.count)
        // Read in parts from the checkpoints of each, and in one pass.
        let whole = onePass.uploadEntries(inPartsFrom: .max)
        #expect(whole.count == 3 * FlatJSONArray.checkpointStride + 101)
        #expect(inParts.uploadEntries(inPartsFrom: 0) == whole)
        #expect(onePass.uploadEntries(inPartsFrom: 0) == whole)
        #expect(inParts.uploadEntries(inPartsFrom: .max) == whole)
    }

    @Test("Where a cut falls in a string full of `},{`, the parts do not prove themselves and one pass decides")
    func bracesInStringsAtTheCuts() throws {
        let entry = #"{"tempID":"100000000000","start":1589391906,"expiry":1589392805}"#
        let note = String(repeating: "},{},{ } , {", count: 100_000)
        let json =
            #"{"type":"upload_contact_log","id":1,"entries":[\#(entry),{"tempID":"1","note":"\#(note)"},\#(entry)]}"#
        let inParts = try #require(Self.entries(json, inParts: true))
        #expect(inParts.checkedInParts == 1)
        #expect(inParts.count == 3)
        let onePass = try #require(Self.entries(json, inParts: false))
        #expect(inParts.uploadEntries() == onePass.uploadEntries())
        guard case .encounter(let last) = inParts.uploadEntries()[2] else {
            Issue.record("the last entry is \(inParts.uploadEntries()[2])")
            return
        }
        #expect(last.tempID.rawValue == "100000000000")
    }

    @Test("A large array with a bad element, or without its closing bracket, is refused in parts as in one pass")
    func badLargeArraysRefused() {
        let json = Self.upload(count: 2 * FlatJSONArray.checkpointStride)
        let middle = json.index(json.startIndex, offsetBy: json.utf8.count / 2)
        let badElement = json[..<middle] + #"{"tempID":},"# + json[middle...]
        // The bad element goes in at the middle byte, into whichever element lies there.
        for bad in [String(badElement), String(json.dropLast(2)) + "}", String(json.dropLast(1))] {
            #expect(Self.entries(bad, inParts: true) == nil)
            #expect(Self.entries(bad, inParts: false) == nil)
        }
        #expect(Self.entries(json, inParts: true)?.checkedInParts == FlatJSONArray.checkedParts)
    }
}
