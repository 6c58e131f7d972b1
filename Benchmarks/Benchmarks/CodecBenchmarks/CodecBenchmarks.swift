import Benchmark
import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import NIOFoundationCompat

// The protocol's real messages, read and written by the hand-written JSON (the server's path) and by
// swift-foundation's JSONDecoder/JSONEncoder, alone: no sockets, no pipeline. The frames are only `Decodable`, so
// JSONEncoder writes the replies through `EncodableReply`, a mirror kept here for this comparison only.

private let allocator = ByteBufferAllocator()
private let coder = MessageCoder()
private let decoder = JSONDecoder()
private let encoder = JSONEncoder()

private func payload(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

private let download = payload(#"{"v":1,"type":"download_tempid","id":123456}"#)
private let login = payload(#"{"v":1,"type":"login","id":1,"username":"+61410777777","password":"datha457"}"#)
private let upload: ByteBuffer = {
    let entry = #"{"tempID":"12345678901234567891","start":1589392446,"expiry":1589393345,"received":1589392560}"#
    return payload(
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":["#
            + Array(repeating: entry, count: 100).joined(separator: ",")
            + "]}")
}()
/// An upload of a million entries naming as many TempIDs (90.6 MiB, as `bench --scenario upload` sends): the server
/// checks it in parts and reads its entries in parts, side by side on the cores.
private let millionUpload: ByteBuffer = {
    var json = #"{"v":1,"type":"upload_contact_log","id":3,"entries":["#
    json.reserveCapacity(96_000_000)
    for index in 0..<1_000_000 {
        if index > 0 { json += "," }
        let start = 1_589_392_446 + index % 86_400
        json += #"{"tempID":"\#(12_345_678_900_000_000_000 as UInt64 + UInt64(index))","start":\#(start),"#
        json += #""expiry":\#(start + 899),"received":\#(start + 114)}"#
    }
    return payload(json + "]}")
}()
private let tempIDReply = ServerFrame(
    id: 123_456,
    message: .tempID(
        TempID("40366406312868076614")!,
        ValidityWindow(
            start: Timestamp(secondsSinceEpoch: 1_589_392_506), expiry: Timestamp(secondsSinceEpoch: 1_589_393_405))))
private let receipt = ServerFrame(
    id: 3, message: .uploadReceipt(UploadReceipt(received: 100, matched: 100, unmatched: [])))

/// What `JSONEncoder` writes in the encode benchmarks. The frames are not `Encodable` (the hand-written writer is their
/// only writer), so this mirror, private to the benchmarks, writes the two replies measured through the same container
/// calls as the frames' `encode(to:)` did before it was removed, which keeps the figures in docs/BENCHMARKS.md
/// comparable. `benchmarks` checks that it writes the same JSON value as the hand-written writer.
private struct EncodableReply: Encodable {
    var frame: ServerFrame

    private enum Field: String, CodingKey {
        case v, type, id, tempID, start, expiry, received, matched, unmatched, index, reason, detail
    }

    private struct Unmatched: Encodable {
        var entry: UnmatchedEntry

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Field.self)
            try container.encode(entry.index, forKey: .index)
            try container.encodeIfPresent(entry.tempID, forKey: .tempID)
            try container.encode(entry.reason, forKey: .reason)
            try container.encodeIfPresent(entry.detail, forKey: .detail)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Field.self)
        try container.encode(ProtocolVersion.current, forKey: .v)
        try container.encode(frame.message.type, forKey: .type)
        try container.encodeIfPresent(frame.id, forKey: .id)
        switch frame.message {
        case .tempID(let tempID, let validity, let following):
            precondition(following.isEmpty, "only a reply of one TempID is measured")
            try container.encode(tempID, forKey: .tempID)
            try container.encode(validity.start, forKey: .start)
            try container.encode(validity.expiry, forKey: .expiry)
        case .uploadReceipt(let receipt):
            try container.encode(receipt.received, forKey: .received)
            try container.encode(receipt.matched, forKey: .matched)
            try container.encode(receipt.unmatched.map(Unmatched.init), forKey: .unmatched)
        default:
            preconditionFailure("only the tempid reply and the upload receipt are measured")
        }
    }
}

/// The JSON value of a payload, whatever the key order.
private func jsonValue(_ payload: ByteBuffer) -> NSObject? {
    (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView))) as? NSObject
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput], maxDuration: .seconds(2))

    for (name, frame) in [("download_tempid", download), ("login", login), ("upload of 100", upload)] {
        Benchmark("decode \(name): hand-written") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try coder.decode(ClientFrame.self, from: frame)) }
        }
        Benchmark("decode \(name): JSONDecoder") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try decoder.decode(ClientFrame.self, from: frame)) }
        }
    }
    Benchmark(
        "decode upload of 1,000,000: hand-written",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .peakMemoryResident], maxDuration: .seconds(10), maxIterations: 10)
    ) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try coder.decode(ClientFrame.self, from: millionUpload)) }
    }
    for (name, frame) in [("tempid reply", tempIDReply), ("upload receipt", receipt)] {
        let mirror = EncodableReply(frame: frame)
        let handWritten = jsonValue(coder.encode(frame, allocator: allocator))
        precondition(
            handWritten != nil
                && handWritten == jsonValue(try! encoder.encodeAsByteBuffer(mirror, allocator: allocator)),
            "the Encodable mirror of the \(name) writes other JSON than the hand-written writer")
        Benchmark("encode \(name): hand-written") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(coder.encode(frame, allocator: allocator)) }
        }
        Benchmark("encode \(name): JSONEncoder") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try encoder.encodeAsByteBuffer(mirror, allocator: allocator))
            }
        }
    }
}
