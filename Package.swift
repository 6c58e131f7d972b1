// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "bluetrace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bluetrace", targets: ["bluetrace"]),
        // The building blocks, for other tools (the fuzzers in Fuzz/, load generators, simulators).
        .library(name: "BlueTraceDomain", targets: ["BlueTraceDomain"]),
        .library(name: "BlueTraceWire", targets: ["BlueTraceWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
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
        // Persistence: the store interface and its embedded SQLite implementation.
        .target(
            name: "BlueTraceStore",
            dependencies: [
                "BlueTraceDomain",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // AES-256-GCM keys set up once for many seals and opens, through the BoringSSL swift-crypto builds.
        .target(name: "CAESGCM"),
        // Security: scrypt password hashes, the server key ring and file, sealed TempIDs.
        .target(
            name: "BlueTraceSecurity",
            dependencies: [
                "BlueTraceDomain",
                "CAESGCM",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The health authority's core: accounts, logins, TempIDs, tracing and retention over a store; its events.
        .target(
            name: "BlueTraceAuthority",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceStore",
                "BlueTraceSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // TLS for the transports: the server's reloadable identity, the client's trust, development certificates.
        .target(
            name: "BlueTraceTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The health-authority server: the transport around the core, and the composition root.
        .target(
            name: "BlueTraceServer",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceWire",
                "BlueTraceStore",
                "BlueTraceSecurity",
                "BlueTraceAuthority",
                "BlueTracePostgres",
                "BlueTraceTLS",
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
                "BlueTraceTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The PostgreSQL store, for several servers sharing one database.
        .target(
            name: "BlueTracePostgres",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // For `ConnectionPoolError`, which the pool throws as it is (its circuit breaker tripped).
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Charts for reports: SVG line and bar charts with round ticks, legends and captions; HTML escaping.
        .target(name: "BlueTraceCharts"),
        // The operations surface: /metrics, /health, /ready and the officials' console, over HTTP (Hummingbird).
        .target(
            name: "BlueTraceConsole",
            dependencies: [
                "BlueTraceAuthority",
                "BlueTraceCharts",
                "BlueTraceDomain",
                "BlueTraceSecurity",
                "BlueTraceServer",
                "BlueTraceStore",
                "BlueTraceTLS",
                "BlueTraceWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The research simulator: moving phones, a radio model, ground truth, reports.
        .target(
            name: "BlueTraceSimulation",
            dependencies: [
                "BlueTraceCharts",
                "BlueTraceAuthority",
                "BlueTraceDomain",
                "BlueTraceStore",
                "BlueTraceWire",
                "BlueTraceSecurity",
                "BlueTraceServer",
                "BlueTraceClient",
                "BlueTraceTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The load generator: virtual clients over real connections, latency percentiles, an in-process server.
        .target(
            name: "BlueTraceBench",
            dependencies: [
                "BlueTraceTLS",
                "BlueTraceAuthority",
                "BlueTraceClient",
                "BlueTraceDomain",
                "BlueTraceStore",
                "BlueTraceSecurity",
                "BlueTraceWire",
                "BlueTraceServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Command line: argument parsing and the demo.
        .target(
            name: "BlueTraceCLI",
            dependencies: [
                "BlueTraceAuthority",
                "BlueTraceSimulation",
                "BlueTraceDomain",
                "BlueTraceWire",
                "BlueTraceStore",
                "BlueTraceSecurity",
                "BlueTraceServer",
                "BlueTraceClient",
                "BlueTraceBench",
                "BlueTracePostgres",
                "BlueTraceConsole",
                "BlueTraceTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "bluetrace", dependencies: ["BlueTraceCLI"]),
        .testTarget(name: "BlueTraceDomainTests", dependencies: ["BlueTraceDomain"]),
        .testTarget(name: "BlueTraceChartsTests", dependencies: ["BlueTraceCharts"]),
        .testTarget(
            name: "BlueTraceSecurityTests",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceSecurity",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "BlueTraceSimulationTests",
            dependencies: ["BlueTraceDomain", "BlueTraceSimulation"]
        ),
        .testTarget(
            name: "BlueTraceStoreTests",
            dependencies: [
                "BlueTraceDomain",
                "BlueTraceStore",
                "BlueTracePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "BlueTraceConsoleTests",
            dependencies: [
                "BlueTraceConsole",
                "BlueTraceAuthority",
                "BlueTraceDomain",
                "BlueTraceSecurity",
                "BlueTraceServer",
                "BlueTraceStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
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
                "bluetrace",
                "BlueTraceAuthority",
                .product(name: "GRDB", package: "GRDB.swift"),
                "BlueTraceDomain",
                "BlueTraceWire",
                "BlueTraceStore",
                "BlueTraceSecurity",
                "BlueTraceServer",
                "BlueTraceClient",
                "BlueTraceCLI",
                "BlueTraceBench",
                "BlueTracePostgres",
                "BlueTraceTLS",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
