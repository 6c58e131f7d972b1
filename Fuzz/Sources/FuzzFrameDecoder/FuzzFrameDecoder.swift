// libFuzzer target: a TCP byte stream through the server's inbound pipeline (length-prefixed frames, then JSON
// ClientFrames), as an EmbeddedChannel sees it.
//
// Input layout: byte 0 and byte 1 choose two split points (as fractions of the rest, 0–255 → 0–100 %); the rest
// is the stream, written in up to three chunks. Decoding errors are expected and ignored. The property checked: the
// stream decodes to the same messages, malformed reports and first error whether it arrives in one write or in
// chunks. A crash or a failed precondition is a bug.

import BlueTraceWire
import LibFuzzerDriver
import NIOCore
import NIOEmbedded

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the pipeline produced, in order.
private enum Outcome: Hashable {
    case message(ClientFrame)
    case malformed(MessageDecodingError)
}

private struct Run: Equatable {
    var outcomes: [Outcome] = []
    /// The first error that reached the end of the pipeline, as text (FrameError is the expected kind).
    var firstError: String?
}

/// The error a ByteToMessageHandler is stuck on, for errors it reports about data received after failing.
private func rootError(_ error: any Error) -> any Error {
    if let error = error as? ByteToMessageDecoderError, case .dataReceivedInErrorState(let inner, _) = error {
        return rootError(inner)
    }
    return error
}

private func decode(_ chunks: [ArraySlice<UInt8>]) -> Run {
    let channel = EmbeddedChannel()
    do {
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumFrameSize: 65_536)),
            MessageDecoderHandler<ClientFrame>())
    } catch {
        preconditionFailure("could not set up the pipeline: \(error)")
    }
    var run = Run()
    func note(_ error: any Error) {
        if run.firstError == nil { run.firstError = "\(rootError(error))" }
    }
    func drain() {
        while true {
            let inbound: Inbound<ClientFrame>?
            do {
                inbound = try channel.readInbound(as: Inbound<ClientFrame>.self)
            } catch {
                preconditionFailure("the pipeline passed on something that is not an Inbound<ClientFrame>: \(error)")
            }
            switch inbound {
            case .message(let frame): run.outcomes.append(.message(frame))
            case .malformed(let error):
                _ = error.description
                run.outcomes.append(.malformed(error))
            case nil: return
            }
        }
    }
    for chunk in chunks where !chunk.isEmpty {
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: chunk))
        } catch {
            note(error)
        }
        drain()
    }
    do {
        _ = try channel.finish(acceptAlreadyClosed: true)
    } catch {
        note(error)
    }
    drain()
    return run
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count >= 2 else { return 0 }
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    let stream = input[2...]
    let length = stream.count
    let cuts = [Int(input[0]), Int(input[1])].map { stream.startIndex + length * $0 / 255 }.sorted()
    let chunked = decode([stream[..<cuts[0]], stream[cuts[0]..<cuts[1]], stream[cuts[1]...]])
    let whole = decode([stream])
    precondition(
        chunked == whole,
        "chunking changed the result: in one write \(whole), in chunks split at \(cuts) \(chunked)")
    return 0
}

/// The program starts here: SwiftPM links `main` to the module's entry point, not to libFuzzer's `main`, so this
/// hands the command line over to libFuzzer, which then calls `fuzz` for every input.
@main
enum FuzzerMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) })
    }
}
