// swift-tools-version: 6.1
import PackageDescription

// The benchmark package: its own package (own .build, own Package.resolved) so package-benchmark and its malloc
// interposer never become dependencies of ReactorCore itself. Run from this directory:
//
//     swift package benchmark                    # run and print the table
//     swift package benchmark thresholds check   # CI gate: fail on any allocation regression (see check.sh)
let package = Package(
    name: "swift-reactor-benchmarks",
    dependencies: [
        .package(name: "swift-reactor", path: "../"),
        // ordo-one/package-benchmark, under the repository's current name (the old URL and identifier still resolve
        // to the same commit but print a deprecation warning on every run).
        // The MallocInterposer trait alone: the default traits also pull in swift-runtime-interposer (ARC counters on
        // Linux + Swift 6.3), which we neither need nor can resolve here.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // A blocking OpenSSL client for the TLS benchmarks (the system OpenSSL 3, as ReactorTLS uses).
        .target(name: "CTLSClient", path: "CTLSClient", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .executableTarget(
            name: "ReactorBenchmarks",
            dependencies: [
                .product(name: "ReactorCore", package: "swift-reactor"),
                .product(name: "ReactorRESP", package: "swift-reactor"),
                .product(name: "ReactorHTTP1", package: "swift-reactor"),
                .product(name: "ReactorHTTPEndpoints", package: "swift-reactor"),
                .product(name: "ReactorRedisStore", package: "swift-reactor"),
                .product(name: "ReactorMetrics", package: "swift-reactor"),
                .product(name: "ReactorTLS", package: "swift-reactor"),
                "CTLSClient",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "ReactorBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
