// swift-tools-version:6.0
import PackageDescription

// Numeric code is 14–400× slower unoptimised, so these targets get -O even in debug builds.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
let cOptimizedInDebug: [CSetting] = [.unsafeFlags(["-O2"], .when(configuration: .debug))]

let package = Package(
    name: "vpgea",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vpgea-gguf", targets: ["vpgea-gguf"]),
        .executable(name: "vpgea-fetch", targets: ["vpgea-fetch"]),
        .executable(name: "vpgea-tokenize", targets: ["vpgea-tokenize"]),
        .executable(name: "vpgea-logits", targets: ["vpgea-logits"]),
        .executable(name: "vpgea-perplexity", targets: ["vpgea-perplexity"]),
        .executable(name: "vpgea-run", targets: ["vpgea-run"]),
        .executable(name: "vpgea-bench", targets: ["vpgea-bench"]),
        .executable(name: "vpgea-train", targets: ["vpgea-train"]),
        .executable(name: "vpgea-eval", targets: ["vpgea-eval"]),
        .executable(name: "vpgea-quantize", targets: ["vpgea-quantize"]),
        .executable(name: "vpgea-serve", targets: ["vpgea-serve"]),
        .library(name: "GGUF", targets: ["GGUF"]),
        .library(name: "Quants", targets: ["Quants"]),
        .library(name: "ModelStore", targets: ["ModelStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // C kernels: the only place for intrinsics and OpenMP (Debian: libomp-dev), and the loader of OpenBLAS
        // (Debian: libopenblas-dev), which is opened at run time so that its kernels can follow the CPU (blas.c).
        .target(name: "CKernels",
                cSettings: cOptimizedInDebug + [.unsafeFlags(["-fopenmp"])],
                linkerSettings: [.linkedLibrary("omp5"), .linkedLibrary("dl")]),

        // Quant formats: block layouts and scalar reference dequantization.
        .target(name: "Quants", swiftSettings: optimizedInDebug),
        // GGUF reader (mmap, bounds-checked) and writer.
        .target(name: "GGUF", dependencies: ["Quants"], swiftSettings: optimizedInDebug),
        // Kernels: matrix products (integer kernels, dequantize + OpenBLAS), norms, rotary, attention, threads.
        .target(name: "Kernels", dependencies: ["Quants", "CKernels"], swiftSettings: optimizedInDebug),
        // The Qwen2 architecture: configuration, weights, KV cache and forward pass.
        .target(name: "Qwen2", dependencies: ["GGUF", "Kernels", "Quants"], swiftSettings: optimizedInDebug),
        // Byte-level BPE tokenizer (llama.cpp's gpt2 vocabularies: qwen2, deepseek-r1-qwen).
        .target(name: "Tokenizers", dependencies: ["GGUF"], swiftSettings: optimizedInDebug),
        // Jinja subset that renders a model's own chat template.
        .target(name: "ChatTemplate"),
        // Loading a model bundle, generation, perplexity, logit summaries.
        .target(name: "Engine", dependencies: ["Qwen2", "Kernels", "Tokenizers", "ChatTemplate", "Sampling", "GGUF"],
                swiftSettings: optimizedInDebug),
        // LoRA training: backward passes through the frozen quantized model, optimiser, checkpoints, adapter files.
        .target(name: "LoRA", dependencies: ["Qwen2", "Kernels", "GGUF", "Quants"], swiftSettings: optimizedInDebug),
        .target(name: "Training", dependencies: ["LoRA", "Qwen2", "Kernels", "GGUF", "Quants", "Sampling", "Engine", "ChatTemplate"], swiftSettings: optimizedInDebug),
        // VPG-EA: problems, answer checking, dual-stream rollouts, cross-view filter, distillation, evaluation.
        // Its benchmark data (GSM8K, MATH-500, AIME24) ships as a resource, and METHOD.md describes the method.
        .target(name: "Benchmarking", dependencies: ["Engine", "Training", "LoRA", "Qwen2", "Kernels"],
                swiftSettings: optimizedInDebug),
        .target(name: "VPGEA", dependencies: ["Training", "LoRA", "Engine", "Qwen2", "Sampling", "ChatTemplate", "Tokenizers"],
                exclude: ["METHOD.md"], resources: [.copy("Data")], swiftSettings: optimizedInDebug),
        // Data-parallel training over Open MPI, which is opened at run time (Debian: openmpi-bin): without mpirun
        // the same binaries run alone and need no MPI.
        .target(name: "CDistributed", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "Distributed", dependencies: ["CDistributed", "Training"], swiftSettings: optimizedInDebug),
        // Serving: continuous batching over one multi-sequence session (an engine thread that owns the model),
        // OpenAI's request and response types, and the reasoning split. No HTTP here (vpgea-serve has it).
        .target(name: "Serving", dependencies: ["Engine", "Qwen2", "Kernels", "Sampling", "Tokenizers", "ChatTemplate", "LoRA"],
                swiftSettings: optimizedInDebug),
        // Samplers and logit processors.
        .target(name: "Sampling", swiftSettings: optimizedInDebug),
        // Terminal helpers shared by the command-line tools.
        .target(name: "ConsoleUI", dependencies: ["ModelStore"]),
        .target(name: "CLISupport", dependencies: [
            "ConsoleUI", "ModelStore", "Kernels", "LoRA", "Qwen2", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Model catalog, download (pip), assembly and verification.
        .target(name: "ModelStore", dependencies: [
            "GGUF",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], swiftSettings: optimizedInDebug),

        .executableTarget(name: "vpgea-gguf", dependencies: [
            "GGUF", "ModelStore", "ConsoleUI", "CLISupport", "ChatTemplate",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "vpgea-fetch", dependencies: [
            "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-tokenize", dependencies: [
            "GGUF", "Tokenizers", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-logits", dependencies: [
            "Engine", "Kernels", "Qwen2", "LoRA", "GGUF", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-perplexity", dependencies: [
            "Engine", "Kernels", "Qwen2", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "vpgea-run", dependencies: [
            "Engine", "Kernels", "Qwen2", "Sampling", "LoRA", "ChatTemplate", "Tokenizers", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-bench", dependencies: [
            "Benchmarking", "Kernels", "Qwen2", "Training", "LoRA", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-train", dependencies: [
            "Training", "LoRA", "VPGEA", "Distributed", "Benchmarking", "Engine", "Qwen2", "ModelStore", "ConsoleUI", "CLISupport", "GGUF", "Quants",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-eval", dependencies: [
            "VPGEA", "LoRA", "Engine", "Qwen2", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "vpgea-serve", dependencies: [
            "Serving", "Engine", "LoRA", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], resources: [.copy("chat.html")]),

        // Re-quantizes a GGUF model to another weight type (llama-quantize's rules).
        .executableTarget(name: "vpgea-quantize", dependencies: [
            "GGUF", "Quants", "Qwen2", "ModelStore", "ConsoleUI", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Developer tool: a random-weight GGUF with a real model's shapes (7B speed and memory).
        .executableTarget(name: "make-shaped-model", dependencies: ["GGUF", "Quants", "Qwen2", "Sampling"],
                          path: "Tools/make-shaped-model", swiftSettings: optimizedInDebug),

        .target(name: "TestSupport", dependencies: ["GGUF", "ModelStore", "Qwen2", "Sampling"], path: "Tests/TestSupport"),
        // Test-only: the SIMD kernels of every x86 path built again through SIMDe's plain-C emulation (Debian:
        // libsimde-dev), so that each path is checked against the generic twins on any x86-64 CPU.
        .target(name: "CKernelsEmulated", dependencies: ["CKernels"], path: "Tests/CKernelsEmulated",
                cSettings: cOptimizedInDebug + [.unsafeFlags(["-ffp-contract=off"])]),
        .testTarget(name: "QuantsTests", dependencies: ["Quants", "GGUF", "Qwen2", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "Sampling", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelStoreTests", dependencies: [
            "ModelStore", "GGUF", "TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .testTarget(name: "TokenizerTests", dependencies: [
            "Tokenizers", "GGUF", "TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "ChatTemplateTests", dependencies: ["ChatTemplate", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "Qwen2Tests", dependencies: ["Qwen2", "Engine", "Tokenizers", "ModelStore", "TestSupport", "CKernels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Quants", "CKernels", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Sampling", "Qwen2", "ChatTemplate", "TestSupport", "ModelStore"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "LoRA", "Qwen2", "Kernels", "GGUF", "TestSupport",
                                                          .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "VPGEATests", dependencies: ["VPGEA", "Training", "LoRA", "Engine", "Qwen2", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "Qwen2", "Training", "LoRA"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Engine", "Sampling", "Qwen2", "LoRA", "TestSupport"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels", "CKernelsEmulated", "Quants", "TestSupport"]),
    ]
)
