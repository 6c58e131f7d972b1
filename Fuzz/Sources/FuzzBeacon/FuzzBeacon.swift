// libFuzzer target: a UDP datagram as a beacon (the 59-byte layout, version 2, or the text form). Parse errors are
// expected. A beacon that parses must give a datagram that parses back to the same beacon; a crash or a failed
// precondition is a bug.

import BlueTraceDomain
import BlueTraceWire
import LibFuzzerDriver

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? .init(start: nil, count: 0)
    let beacon: Beacon
    do throws(BeaconParseError) {
        beacon = try Beacon.parse(bytes, format: .utc)
    } catch {
        _ = error.description
        return 0
    }
    let datagram = beacon.datagram(format: .utc)
    if beacon.tempID.isDecimal {
        precondition(
            datagram.count == Beacon.assignmentSize, "a 20-digit TempID's datagram is not 59 bytes: \(datagram)")
        precondition(beacon.version == Beacon.assignmentVersion, "a 20-digit TempID goes out as version 1")
    } else {
        precondition(beacon.version != Beacon.assignmentVersion, "only 20-digit TempIDs go out as version 1")
    }
    do throws(BeaconParseError) {
        let again = try Beacon.parse(datagram, format: .utc)
        precondition(again == beacon, "round trip changed the beacon: \(beacon) → \(again)")
    } catch {
        preconditionFailure(
            "the datagram of \(beacon) does not parse (\(error)): \(String(decoding: datagram, as: UTF8.self))")
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
