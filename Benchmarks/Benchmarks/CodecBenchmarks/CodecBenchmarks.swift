import Benchmark
import BlueTraceDomain
import BlueTraceWire
import Foundation
import NIOCore
import NIOFoundationCompat

// The protocol's real messages, read and written by the hand-written JSON (the server's path) and by
// swift-foundation's JSONDecoder/JSONEncoder, alone: no sockets, no pipeline.

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
        #"{"v":1,"type":"upload_contact_log","id":3,"entries":["# + Array(repeating: entry, count: 100).joined(separator: ",")
            + "]}")
}()
private let tempIDReply = ServerFrame(
    id: 123_456,
    message: .tempID(
        TempID("40366406312868076614")!,
        ValidityWindow(
            start: Timestamp(secondsSinceEpoch: 1_589_392_506), expiry: Timestamp(secondsSinceEpoch: 1_589_393_405))))
private let receipt = ServerFrame(
    id: 3, message: .uploadReceipt(UploadReceipt(received: 100, matched: 100, unmatched: [])))

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
    for (name, frame) in [("tempid reply", tempIDReply), ("upload receipt", receipt)] {
        Benchmark("encode \(name): hand-written") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(coder.encode(frame, allocator: allocator)) }
        }
        Benchmark("encode \(name): JSONEncoder") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try encoder.encodeAsByteBuffer(frame, allocator: allocator)) }
        }
    }
}
