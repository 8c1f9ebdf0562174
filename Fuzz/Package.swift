// swift-tools-version: 6.1
import PackageDescription

// The fuzzing package: libFuzzer targets for ReactorCore, ReactorRESP, ReactorRedisStore, ReactorHTTP1, reactor-http's endpoints and ReactorTLS, in their own
// package (own .build, own Package.resolved) so the main `swift build` / `swift test` never see fuzzer-only symbols. Build
// and run with `bash Fuzz/run.sh`, which passes `-sanitize=fuzzer,address -parse-as-library` (a build without `-sanitize=fuzzer`
// does not link: nothing defines `LLVMFuzzerRunDriver`). See README.md.
let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]
let reactorCore: Target.Dependency = .product(name: "ReactorCore", package: "swift-reactor")
let reactorRESP: Target.Dependency = .product(name: "ReactorRESP", package: "swift-reactor")
let reactorRedisStore: Target.Dependency = .product(name: "ReactorRedisStore", package: "swift-reactor")
let reactorHTTP1: Target.Dependency = .product(name: "ReactorHTTP1", package: "swift-reactor")
let reactorHTTPEndpoints: Target.Dependency = .product(name: "ReactorHTTPEndpoints", package: "swift-reactor")
let reactorTLS: Target.Dependency = .product(name: "ReactorTLS", package: "swift-reactor")

let package = Package(
    name: "swift-reactor-fuzz",
    dependencies: [
        .package(name: "swift-reactor", path: "../")
    ],
    targets: [
        // The declaration of libFuzzer's `LLVMFuzzerRunDriver` (the toolchain ships no header for it).
        .target(name: "CLibFuzzer", path: "CLibFuzzer"),
        // The libFuzzer entry helper, the input reader, the random generator, the reference frame parser and the
        // engine-style decode loop the decoder targets share.
        .target(
            name: "FuzzSupport", dependencies: ["CLibFuzzer", reactorCore], path: "FuzzSupport",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "LengthFieldDecoderFuzzer",
            dependencies: ["FuzzSupport", reactorCore],
            path: "LengthFieldDecoderFuzzer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DelimiterDecoderFuzzer",
            dependencies: ["FuzzSupport", reactorCore],
            path: "DelimiterDecoderFuzzer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ReadPathFuzzer",
            dependencies: ["FuzzSupport", reactorCore],
            path: "ReadPathFuzzer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "RESPRequestDecoderFuzzer",
            dependencies: ["FuzzSupport", reactorRESP],
            path: "RESPRequestDecoderFuzzer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "RedisCommandFuzzer",
            dependencies: ["FuzzSupport", reactorCore, reactorRESP, reactorRedisStore],
            path: "RedisCommandFuzzer",
            swiftSettings: swiftSettings
        ),
        // nodejs/http-parser (Debian's libhttp-parser-dev), the reference HTTP1DifferentialFuzzer compares with.
        .target(name: "CHTTPParser", path: "CHTTPParser", linkerSettings: [.linkedLibrary("http_parser")]),
        .executableTarget(
            name: "HTTP1DifferentialFuzzer",
            dependencies: ["FuzzSupport", "CHTTPParser", reactorHTTP1],
            path: "HTTP1DifferentialFuzzer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HTTP1RequestDecoderFuzzer",
            dependencies: ["FuzzSupport", reactorHTTP1],
            path: "HTTP1RequestDecoderFuzzer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HTTPServerFuzzer",
            dependencies: ["FuzzSupport", reactorCore, reactorHTTP1, reactorHTTPEndpoints],
            path: "HTTPServerFuzzer",
            swiftSettings: swiftSettings
        ),
        // TLSReadPathFuzzer's OpenSSL side: the server's throwaway key and certificate, made at start, and the
        // fuzzer's TLS client on memory BIOs.
        .target(
            name: "CTLSFuzzSupport", path: "CTLSFuzzSupport",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .executableTarget(
            name: "TLSReadPathFuzzer",
            dependencies: ["FuzzSupport", "CTLSFuzzSupport", reactorCore, reactorTLS],
            path: "TLSReadPathFuzzer",
            swiftSettings: swiftSettings
        ),
    ]
)
