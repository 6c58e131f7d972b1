// swift-tools-version: 6.1
// libFuzzer targets for bluetrace's parsers (docs/FUZZING.md). Not part of the main build: build and run them with
// `scripts/fuzz.sh`, which passes `-Xswiftc -sanitize=fuzzer,address` (docs/FUZZING.md).
import PackageDescription

let package = Package(
    name: "bluetrace-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The root package. `name:` keeps `package: "bluetrace"` working whatever the clone's directory is called (a
        // path dependency's identity is otherwise its directory name).
        .package(name: "bluetrace", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The declaration of libFuzzer's LLVMFuzzerRunDriver, which each fuzzer's `@main` calls (see its header).
        .target(name: "LibFuzzerDriver"),
        // Length-prefixed frames and JSON messages through a NIO pipeline, the bytes arriving in 1–3 chunks.
        .executableTarget(
            name: "FuzzFrameDecoder",
            dependencies: [
                "LibFuzzerDriver",
                .product(name: "BlueTraceWire", package: "bluetrace"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // One frame payload as a ClientFrame and as a ServerFrame; round trips of what decodes.
        .executableTarget(
            name: "FuzzMessageDecoder",
            dependencies: [
                "LibFuzzerDriver",
                .product(name: "BlueTraceWire", package: "bluetrace"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // A UDP datagram as a beacon; round trip of what parses.
        .executableTarget(
            name: "FuzzBeacon",
            dependencies: [
                "LibFuzzerDriver",
                .product(name: "BlueTraceDomain", package: "bluetrace"),
                .product(name: "BlueTraceWire", package: "bluetrace"),
            ]
        ),
        // Text as a contact log, credentials.txt and tempIDs.txt; round trips of what parses.
        .executableTarget(
            name: "FuzzContactLog",
            dependencies: [
                "LibFuzzerDriver",
                .product(name: "BlueTraceDomain", package: "bluetrace"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
