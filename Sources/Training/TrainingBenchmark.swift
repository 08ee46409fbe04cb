import Engine
import Foundation
import LoRA
import Qwen2

/// Training throughput in `vpgea-bench`'s terms: tokens/s of whole LoRA steps (forward, backward, AdamW) on
/// sequences of `test.train` tokens, batch 1, loss on every position (as PyTorch's causal-LM loss).
public enum TrainingBenchmark {
    public static func run(_ test: Benchmark.Test, model: Qwen2Model, config: LoRAConfig, threads: Int,
                           repetitions: Int, products: BaseProducts = .exact) throws -> Benchmark.Result {
        let adapter = LoRAAdapter(config: config, model: model.config)
        adapter.initializePEFT(seed: 0)
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: test.train, threads: threads,
                                    products: products)
        let optimizer = AdamW(count: adapter.count)
        let vocab = model.config.vocabularySize
        let tokens = (0..<test.train).map { Benchmark.ordinaryToken($0, vocabulary: vocab) }
        let loss = CrossEntropyLoss(tokens: tokens)
        var samples: [Double] = []
        let load = CPULoad()
        for r in 0...repetitions {
            let start = ContinuousClock.now
            backprop.zeroGradients()
            try backprop.accumulate(tokens: tokens, loss: loss)
            optimizer.update(adapter.parameters, backprop.gradients, lr: 1e-4)
            let seconds = (ContinuousClock.now - start).secondsValue
            if r > 0 { samples.append(Double(test.train) / seconds) }   // r == 0 is the warm-up
        }
        return Benchmark.Result(test: test, threads: threads, samples: samples, foreignLoad: load.foreignFraction())
    }
}
