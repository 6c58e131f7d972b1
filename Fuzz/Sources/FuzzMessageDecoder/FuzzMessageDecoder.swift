// libFuzzer target: one frame payload decoded as a ClientFrame (what the server reads) and as a ServerFrame (what a
// client reads). Decoding errors are expected. The fast path for flat messages must give exactly what JSONDecoder
// gives (the same frame, or the same error); what decodes must encode (by the hand-written JSON writer), and the
// encoding must decode to the same frame; a crash or a failed precondition is a bug.

import BlueTraceDomain
import BlueTraceWire
import LibFuzzerDriver
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A ClientFrame with the reasons of malformed upload entries blanked: by design (docs/PROTOCOL.md, and the test
/// "A malformed upload entry is sent with its TempID and read back as malformed") an entry that was malformed goes
/// back on the wire with only its TempID, so it reads back as malformed with the same TempID but possibly another
/// reason.
private func comparable(_ frame: ClientFrame) -> ClientFrame {
    guard case .uploadContactLog(let entries, let code) = frame.message else { return frame }
    let blanked = entries.map { entry -> UploadEntry in
        switch entry {
        case .encounter: entry
        case .malformed(let tempID, _): .malformed(tempID: tempID, reason: "")
        }
    }
    return ClientFrame(id: frame.id, message: .uploadContactLog(blanked, code: code))
}

private func roundTrip<Frame: JSONFrameEncodable & JSONFrameDecodable & Equatable>(
    _ frame: Frame, _ coder: MessageCoder, comparing key: (Frame) -> Frame
) {
    let encoded = coder.encode(frame, allocator: ByteBufferAllocator())
    do throws(MessageDecodingError) {
        let again = try coder.decode(Frame.self, from: encoded)
        precondition(
            key(again) == key(frame),
            "round trip changed the \(Frame.self):\n\(frame)\n\(String(buffer: encoded))\n\(again)")
    } catch {
        preconditionFailure("an encoded \(Frame.self) does not decode: \(error)\n\(String(buffer: encoded))")
    }
}

/// Decodes `payload` both ways, checks they agree, and round-trips what decoded.
private func check<Frame: JSONFrameEncodable & JSONFrameDecodable & Equatable>(
    _ type: Frame.Type, _ payload: ByteBuffer, comparing key: (Frame) -> Frame
) {
    let coder = MessageCoder()
    let fast = Result { () throws(MessageDecodingError) in try coder.decode(type, from: payload) }
    let full = Result { () throws(MessageDecodingError) in try coder.decodeWithFoundation(type, from: payload) }
    switch (fast, full) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "the fast path read another \(Frame.self):\n\(a)\n\(b)\n\(String(buffer: payload))")
        roundTrip(a, coder, comparing: key)
    case (.failure(let a), .failure(let b)):
        precondition(a == b, "the fast path failed differently:\n\(a)\n\(b)")
        _ = a.description
    default:
        preconditionFailure("the fast path and JSONDecoder disagree:\n\(fast)\n\(full)\n\(String(buffer: payload))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let payload = ByteBuffer(
        bytes: start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? .init(start: nil, count: 0))
    check(ClientFrame.self, payload, comparing: comparable)
    check(ServerFrame.self, payload, comparing: { $0 })
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
