// libFuzzer target: one frame payload decoded as a ClientFrame (what the server reads) and as a ServerFrame (what a
// client reads). Decoding errors are expected. What decodes must encode, and the encoding must decode to the same
// frame; a crash or a failed precondition is a bug.

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
    guard case .uploadContactLog(let entries) = frame.message else { return frame }
    let blanked = entries.map { entry -> UploadEntry in
        switch entry {
        case .encounter: entry
        case .malformed(let tempID, _): .malformed(tempID: tempID, reason: "")
        }
    }
    return ClientFrame(id: frame.id, message: .uploadContactLog(blanked))
}

private func roundTrip<Frame: Codable & Equatable>(
    _ frame: Frame, _ coder: MessageCoder, comparing key: (Frame) -> Frame
) {
    let encoded: ByteBuffer
    do {
        encoded = try coder.encode(frame, allocator: ByteBufferAllocator())
    } catch {
        preconditionFailure("a decoded \(Frame.self) does not encode: \(error)\n\(frame)")
    }
    do throws(MessageDecodingError) {
        let again = try coder.decode(Frame.self, from: encoded)
        precondition(
            key(again) == key(frame),
            "round trip changed the \(Frame.self):\n\(frame)\n\(String(buffer: encoded))\n\(again)")
    } catch {
        preconditionFailure("an encoded \(Frame.self) does not decode: \(error)\n\(String(buffer: encoded))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let payload = ByteBuffer(
        bytes: start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? .init(start: nil, count: 0))
    let coder = MessageCoder()
    do throws(MessageDecodingError) {
        let frame = try coder.decode(ClientFrame.self, from: payload)
        roundTrip(frame, coder, comparing: comparable)
    } catch {
        _ = error.description
    }
    do throws(MessageDecodingError) {
        let frame = try coder.decode(ServerFrame.self, from: payload)
        roundTrip(frame, coder, comparing: { $0 })
    } catch {
        _ = error.description
    }
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
