import ArgumentParser
import Foundation
import Kernels

/// `-t/--threads`, as every command that runs the model takes it.
public struct ThreadsOption: ParsableArguments {
    @Option(name: [.short, .customLong("threads")], help: "Threads (default: all cores).")
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}
}

/// `--cache-type`, as every command that keeps a KV cache takes it.
public struct CacheTypeOption: ParsableArguments {
    @Option(name: .customLong("cache-type"), help: "KV cache storage: f16 (default, as llama.cpp), f32 (exact) or q8_0 (about half the memory of f16, but lossy on Qwen2 models, as in llama.cpp: their keys have outlier channels).")
    public var cacheType: KVCacheType = .f16

    public init() {}
}

extension KVCacheType: ExpressibleByArgument {}
