// swift-tools-version:6.1
import PackageDescription

// Targets follow the pipeline in one direction:
// spec -> plan -> execute -> score -> weigh (see docs/ARCHITECTURE.md).
let package = Package(
    name: "gascli",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gascli", targets: ["gascli"]),
        .library(name: "GASCore", targets: ["GASCore"]),
        .library(name: "GASParquet", targets: ["GASParquet"]),
        .library(name: "GASRunner", targets: ["GASRunner"]),
        .library(name: "GASValidator", targets: ["GASValidator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // Domain types, metrics and deterministic randomness. No I/O.
        .target(name: "GASCore"),
        // YAML round specs -> typed, validated Spec with source locations.
        .target(name: "GASSpec", dependencies: ["GASCore", .product(name: "Yams", package: "Yams")]),
        // Parquet writer and reader (standalone).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "GASParquet", dependencies: ["CZlib", "CZstd"]),
        // Archives (libarchive) and images (libpng, libjpeg).
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        .target(name: "CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("z")]),
        .target(name: "GASMedia", dependencies: ["CArchive", "CImageCodecs"]),
        // Catalogs, sources, sampling, synthetic media, the content-addressed media store.
        .target(name: "GASData", dependencies: [
            "GASCore", "GASSpec", "GASMedia", "GASParquet",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Detector adapters: builtin, process (JSON lines over stdio), predictions file.
        .target(name: "GASDetectors", dependencies: [
            "GASCore", "GASMedia", "GASParquet",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Run ledgers (SQLite through GRDB, or a shared PostgreSQL through postgres-nio) and result writers (Parquet, JSON).
        .target(name: "GASStore", dependencies: [
            "GASCore", "GASParquet", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        // The HTML report: data in, one self-contained page out (inline CSS and SVG). No I/O.
        .target(name: "GASReport", dependencies: ["GASCore"]),
        // plan -> execute -> score; the library behind every command.
        .target(name: "GASRunner", dependencies: [
            "GASCore", "GASSpec", "GASData", "GASDetectors", "GASStore", "GASMedia", "GASReport", "GASNetwork",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Generator-miner server, validator challenge client and webhook receiver, Epistula signing.
        .target(name: "GASNetwork", dependencies: [
            "GASCore", "GASData", "GASMedia", "GASSpec", "GASStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The validator service: schedules, score state across rounds, weights and sinks.
        .target(name: "GASValidator", dependencies: [
            "GASCore", "GASSpec", "GASStore", "GASRunner", "GASParquet",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `gascli bench`: release-build benchmarks side by side with Python references (Benchmarks/python).
        .target(name: "GASBench", dependencies: [
            "GASCore", "GASSpec", "GASParquet", "GASMedia", "GASDetectors", "GASStore", "GASRunner",
        ]),
        .executableTarget(name: "gascli", dependencies: [
            "GASRunner", "GASBench", "GASNetwork", "GASCore", "GASSpec", "GASValidator", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Fuzz targets and the seeded mutational fuzzer (docs: README "Robustness"); gas-fuzz runs it for long sessions.
        .target(name: "GASFuzz", dependencies: [
            "GASCore", "GASSpec", "GASParquet", "GASMedia", "GASDetectors", "GASNetwork", "GASStore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "gas-fuzz", dependencies: [
            "GASFuzz", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "GASTestSupport", dependencies: ["GASCore"], path: "Tests/GASTestSupport"),
        .testTarget(name: "GASCoreTests", dependencies: ["GASCore", "GASTestSupport"]),
        .testTarget(name: "GASSpecTests", dependencies: ["GASSpec", "GASTestSupport"]),
        .testTarget(name: "GASParquetTests", dependencies: ["GASParquet", "GASTestSupport"]),
        .testTarget(name: "GASMediaTests", dependencies: ["GASMedia", "GASTestSupport"]),
        .testTarget(name: "GASDataTests", dependencies: ["GASData", "GASTestSupport"]),
        .testTarget(name: "GASDetectorsTests", dependencies: ["GASDetectors", "GASCore"], exclude: ["Fixtures"]),
        .testTarget(name: "GASStoreTests", dependencies: ["GASStore", "GASTestSupport"]),
        .testTarget(name: "GASBenchTests", dependencies: ["GASBench", "GASCore", "GASParquet"]),
        .testTarget(name: "GASReportTests", dependencies: ["GASReport", "GASCore"]),
        .testTarget(name: "GASValidatorTests", dependencies: [
            "GASValidator", "GASCore", "GASSpec", "GASStore", "GASParquet", "GASTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "GASNetworkTests", dependencies: [
            "GASNetwork", "GASCore", "GASMedia", "GASData", "GASSpec", "GASStore", "GASTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "GASFuzzTests", dependencies: [
            "GASFuzz", "GASCore", "GASSpec", "GASParquet", "GASMedia", "GASDetectors", "GASNetwork", "GASTestSupport",
        ]),
        // A misbehaving generator miner the end-to-end tests start as a separate process.
        .executableTarget(name: "gas-test-generator", dependencies: [
            "GASNetwork", "GASCore", "GASData", "GASMedia", "GASSpec",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], path: "Tests/TestGenerator"),
        .testTarget(name: "EndToEndTests", dependencies: [
            "gascli", "gas-test-generator", "GASRunner", "GASNetwork", "GASParquet", "GASTestSupport", "GASCore", "GASData", "GASMedia",
            "GASSpec", "GASStore", "GASValidator",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
