// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Arena",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "engine", targets: ["Engine"]),
        .executable(name: "control-api", targets: ["ControlAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Already in the graph through Hummingbird; named here for `NIOHTTPTypes` and `NIOHTTPTypesHTTP1`: where
        // control-api's prepared-document fast path counts the router's answers (after Hummingbird's codec).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CIsal",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),
        // Linux calls Swift's Glibc module does not declare: memfd_create (control-api's large documents),
        // sync_file_range (the live journal's writeback).
        .systemLibrary(name: "CLinux"),
        // The JSON writer's byte scans with SSE2 (a header of our own, no library).
        .systemLibrary(name: "CText"),
        .target(
            name: "Shared",
            dependencies: [
                "CZlib",
                "CIsal",
                "CHiredis",
                "CText",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The engine is four targets whose dependencies point one way (docs/ARCHITECTURE.md): the core of pure
        // values and logic, the adapters around it, the runtime (the manager, its decision cycle, backtests and the
        // assembly from configuration) and the `engine` executable (commands) on top.
        .target(
            name: "ArenaCore",
            dependencies: [
                "Shared",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Sources/Engine/Core"
        ),
        .target(
            name: "ArenaAdapters",
            dependencies: [
                "ArenaCore",
                "Shared",
                "CSecp256k1",
                "CLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/Engine/Adapters"
        ),
        .target(
            name: "ArenaRuntime",
            dependencies: [
                "ArenaAdapters",
                "ArenaCore",
                "Shared",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Engine/Runtime"
        ),
        .executableTarget(
            name: "Engine",
            dependencies: [
                "ArenaRuntime",
                "ArenaAdapters",
                "ArenaCore",
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Engine/App"
        ),
        .executableTarget(
            name: "ControlAPI",
            dependencies: [
                "Shared",
                "CZlib",
                "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            // The browser dashboard, embedded in the binary (no files to install beside it).
            resources: [
                .embedInCode("Dashboard/Assets/index.html"),
                .embedInCode("Dashboard/Assets/app.js"),
                .embedInCode("Dashboard/Assets/app.css"),
                .embedInCode("Dashboard/Assets/icon.svg"),
            ]
        ),
        // Helpers every test target uses: package paths, scratch directories, by-value JSON comparison.
        .target(name: "ArenaTestSupport", path: "Tests/ArenaTestSupport"),
        // The engine's test harness: the decision cycle on the paper exchange, configuration fixtures, and the fake
        // model and fake Hyperliquid that speak the real protocols over loopback HTTP.
        .target(
            name: "EngineTestSupport",
            dependencies: [
                "ArenaRuntime", "ArenaAdapters", "ArenaCore", "Shared", "ArenaTestSupport", "CSecp256k1",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/EngineTestSupport"
        ),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "ArenaTestSupport"]),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "ArenaRuntime", "ArenaAdapters", "ArenaCore", "Shared", "ArenaTestSupport",
                "EngineTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "ControlAPITests",
            dependencies: [
                "ControlAPI", "Shared", "CZlib", "ArenaTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "IntegrationTests", dependencies: ["Shared", "ArenaTestSupport"]),
    ]
)
