// swift-tools-version: 6.2
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode (strict concurrency) and the upcoming
/// features we adopt. Applied in one place so no target drifts. `Lifetimes` lets ReactorCore declare the borrowed
/// `RawSpan` views it hands out (`@_lifetime`, as SwiftNIO does); modules that only use them need no flag.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableExperimentalFeature("Lifetimes"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-reactor",
    products: [
        .library(name: "ReactorCore", targets: ["ReactorCore"]),
        .library(name: "ReactorRESP", targets: ["ReactorRESP"]),
        .library(name: "ReactorRedisStore", targets: ["ReactorRedisStore"]),
        .library(name: "ReactorHTTP1", targets: ["ReactorHTTP1"]),
        .library(name: "ReactorHTTP1Types", targets: ["ReactorHTTP1Types"]),
        .library(name: "ReactorHTTPEndpoints", targets: ["ReactorHTTPEndpoints"]),
        .library(name: "ReactorMetrics", targets: ["ReactorMetrics"]),
        .library(name: "ReactorTLS", targets: ["ReactorTLS"]),
        .executable(name: "reactor-bench", targets: ["ReactorBench"]),
        .executable(name: "reactor-redis", targets: ["ReactorRedis"]),
        .executable(name: "reactor-http", targets: ["ReactorHTTP"]),
        .library(name: "ReactorServiceLifecycle", targets: ["ReactorServiceLifecycle"]),
        .executable(name: "reactor-service-example", targets: ["ReactorServiceExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .target(
            name: "CEpoll",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "ReactorCore",
            dependencies: [
                "CEpoll",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // The C shim over the system OpenSSL 3 (libssl-dev): macros Swift cannot call, the ALPN and info callbacks,
        // one call per TLS step.
        .target(
            name: "CReactorTLS",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // TLS as a `ConnectionTransport`: every handler runs over it unchanged.
        .target(
            name: "ReactorTLS",
            dependencies: [
                "ReactorCore", "CReactorTLS", .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReactorRESP",
            dependencies: ["ReactorCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReactorHTTP1",
            dependencies: ["ReactorCore"],
            swiftSettings: swiftSettings
        ),
        // The conversions to and from swift-http-types, apart so that the codec does not force the dependency.
        .target(
            name: "ReactorHTTP1Types",
            dependencies: [
                "ReactorCore",
                "ReactorHTTP1",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // reactor-http's endpoints, a library so that the allocation gate and the fuzz targets run the same code.
        .target(
            name: "ReactorHTTPEndpoints",
            dependencies: ["ReactorCore", "ReactorHTTP1"],
            swiftSettings: swiftSettings
        ),
        // The loops' counters as swift-metrics counters and gauges, apart so that ReactorCore does not depend on
        // swift-metrics (ReactorCore's hook is `ServerConfiguration.loopMetrics`).
        .target(
            name: "ReactorMetrics",
            dependencies: [
                "ReactorCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReactorRedisStore",
            dependencies: ["ReactorCore", "ReactorRESP"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReactorRedis",
            dependencies: [
                "ReactorCore",
                "ReactorRESP",
                "ReactorRedisStore",
                "ReactorTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReactorHTTP",
            dependencies: [
                "ReactorCore",
                "ReactorHTTP1",
                "ReactorHTTPEndpoints",
                "ReactorTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReactorBench",
            dependencies: [
                "ReactorCore",
                "ReactorMetrics",
                "ReactorTLS",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
                "CEpoll",
            ],
            swiftSettings: swiftSettings
        ),
        // `Server` as a swift-service-lifecycle `Service`, apart so that ReactorCore does not depend on it.
        .target(
            name: "ReactorServiceLifecycle",
            dependencies: [
                "ReactorCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // A line echo server under a ServiceGroup that shuts down gracefully on SIGTERM or SIGINT.
        .executableTarget(
            name: "ReactorServiceExample",
            dependencies: [
                "ReactorCore",
                "ReactorServiceLifecycle",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReactorCoreTests",
            dependencies: [
                "ReactorCore", "ReactorRESP", "ReactorRedisStore", "ReactorHTTP1", "ReactorHTTP1Types",
                "ReactorHTTPEndpoints", "ReactorMetrics", "ReactorServiceLifecycle", "CEpoll", "ReactorTLS", "CReactorTLS",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
