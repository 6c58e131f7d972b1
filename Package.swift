// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "bluetrace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bluetrace", targets: ["bluetrace"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Domain rules: pure values, an injectable clock, no I/O.
        .target(name: "BlueTraceDomain"),
        // Wire formats: TCP frames, JSON messages, UDP beacons.
        .target(
            name: "BlueTraceWire",
            dependencies: [
                "BlueTraceDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // The health-authority server.
        .target(
            name: "BlueTraceServer",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The phone client: TCP session, UDP beacons, contact log.
        .target(
            name: "BlueTraceClient",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Command line: argument parsing and the demo.
        .target(
            name: "BlueTraceCLI",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceWire",
                "BlueTraceServer",
                "BlueTraceClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "bluetrace", dependencies: ["BlueTraceCLI"]),
        .testTarget(name: "BlueTraceDomainTests", dependencies: ["BlueTraceDomain"]),
        .testTarget(
            name: "BlueTraceWireTests",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BlueTraceEndToEndTests",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceWire",
                "BlueTraceServer",
                "BlueTraceClient",
                "BlueTraceCLI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
