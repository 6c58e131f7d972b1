// swift-tools-version: 6.1
// Microbenchmarks of the protocol's JSON (docs/BENCHMARKS.md, "JSON"). Not part of the main build:
// `cd Benchmarks && swift package benchmark` runs them.
import PackageDescription

let package = Package(
    name: "bluetrace-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The root package. `name:` keeps `package: "bluetrace"` working whatever the clone's directory is called.
        .package(name: "bluetrace", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The hand-written JSON reader and writer against swift-foundation's coders, on the protocol's messages.
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "BlueTraceDomain", package: "bluetrace"),
                .product(name: "BlueTraceWire", package: "bluetrace"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
