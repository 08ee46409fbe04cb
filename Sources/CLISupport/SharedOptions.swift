import ArgumentParser
import Foundation
import Kernels
import LoRA
import Qwen2

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

/// `--lora` and `--lora-scale`, as the commands that run a model with an adapter take them.
public struct AdapterOptions: ParsableArguments {
    @Option(help: "A LoRA adapter (llama.cpp GGUF, or a PEFT directory) applied without merging.")
    public var lora: String?

    @Option(name: .customLong("lora-scale"), help: "Multiplies the adapter's effect (1: as trained, 0: off).")
    public var loraScale: Float = 1

    public init() {}

    /// The adapter for a model of `config`, scaled; nil without `--lora`.
    public func load(for config: Qwen2Config) throws -> LoRAAdapter? {
        guard let lora else { return nil }
        let adapter = try LoRAAdapter.load(path: lora, model: config)
        adapter.userScale = loraScale
        return adapter
    }
}
