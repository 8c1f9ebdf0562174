// swift-tools-version: 6.2
import PackageDescription

// A compile check kept out of `swift test`: one file imports every swift-reactor library next to NIOCore, NIOPosix,
// NIOSSL, SystemPackage and Foundation and spells each side's types unqualified, so a name that becomes ambiguous
// again fails this build. Scripts/name-compatibility.sh builds it.
let reactorLibraries = [
    "ReactorCore", "ReactorRESP", "ReactorRedisStore", "ReactorHTTP1", "ReactorHTTP1Types", "ReactorHTTPEndpoints",
    "ReactorServiceLifecycle", "ReactorTLS",
]

let package = Package(
    name: "swift-reactor-name-compatibility",
    dependencies: [
        .package(name: "swift-reactor", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", "2.101.0"..<"2.102.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        .executableTarget(
            name: "NameCompatibility",
            dependencies: reactorLibraries.map { .product(name: $0, package: "swift-reactor") } + [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
