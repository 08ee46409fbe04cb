// swift-tools-version:6.0
// Benchmarks live in their own package so that `swift test` in the root never builds them.
import PackageDescription

let package = Package(
    name: "vpgea-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "tokenizer-bench", dependencies: [
            .product(name: "Tokenizers", package: "vpgea"),
            .product(name: "GGUF", package: "vpgea"),
        ], swiftSettings: [.unsafeFlags(["-O"])]),
    ]
)
