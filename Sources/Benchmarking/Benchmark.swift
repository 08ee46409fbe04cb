import Engine
import Foundation
import Kernels
import LoRA
import Qwen2
import Training

/// Throughput measurements with llama-bench's vocabulary: `pp` (prompt processing of n tokens in one batch),
/// `tg` (generation of n tokens one at a time, or by several sequences together) and `@ d` (after a context of d
/// tokens); and `train` (LoRA training steps), which llama-bench does not have.
public enum Benchmark {
    public struct Test: Sendable, Equatable {
        /// What one repetition does.
        public enum Work: Sendable, Equatable {
            /// A prompt of this many tokens in one batch (n_prompt).
            case prompt(Int)
            /// This many tokens generated one at a time by each of `sequences` sequences together (n_gen).
            case generation(Int, sequences: Int)
            /// One LoRA step (forward, backward, AdamW) on a sequence of this many tokens, batch 1.
            case training(Int, products: BaseProducts)
        }

        public let work: Work
        /// Context already in the cache before the timed work (n_depth; inference only).
        public let depth: Int

        public init(_ work: Work, depth: Int = 0) {
            if case .generation(let n, let s) = work, s < 1 { self.work = .generation(n, sequences: 1) } else { self.work = work }
            self.depth = depth
        }

        public var name: String {
            switch work {
            case .prompt(let n): "pp\(n)" + (depth > 0 ? " @ d\(depth)" : "")
            case .generation(let n, let s): "tg\(n)" + (depth > 0 ? " @ d\(depth)" : "") + (s > 1 ? " b\(s)" : "")
            case .training(let n, let products): "train\(n)" + (products == .exact ? "" : " \(products.rawValue)")
            }
        }

        /// Tokens per repetition (all sequences together).
        public var tokens: Int {
            switch work {
            case .prompt(let n), .training(let n, _): n
            case .generation(let n, let s): n * s
            }
        }

        /// Sequences decoded together (1 but for batched generation).
        public var sequences: Int {
            if case .generation(_, let s) = work { return s }
            return 1
        }
    }

    public struct Result: Sendable {
        public let test: Test
        public let threads: Int
        public let samples: [Double]   // tokens/s of each repetition
        /// CPU time other processes used during the run, as a fraction of the run's core-seconds.
        public let foreignLoad: Double
        public init(test: Test, threads: Int, samples: [Double], foreignLoad: Double) {
            self.test = test
            self.threads = threads
            self.samples = samples
            self.foreignLoad = foreignLoad
        }
        public var mean: Double { samples.reduce(0, +) / Double(max(samples.count, 1)) }
        public var stddev: Double {
            guard samples.count > 1 else { return 0 }
            let m = mean
            return (samples.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(samples.count - 1)).squareRoot()
        }
    }

    /// The i-th token of the benchmarks' inputs: ordinary tokens, no special ones.
    public static func ordinaryToken(_ i: Int, vocabulary: Int) -> Int { 1000 + (i * 7919) % max(vocabulary - 2000, 1) }

    /// Times `repetitions` runs of `once` after a warm-up run; each returns after doing `test.tokens` tokens.
    static func measure(_ test: Test, threads: Int, repetitions: Int, prepare: () throws -> Void = {},
                        _ once: () throws -> Void) rethrows -> Result {
        var samples: [Double] = []
        let load = CPULoad()
        for r in 0...repetitions {
            try prepare()
            let start = ContinuousClock.now
            try once()
            let seconds = (ContinuousClock.now - start).secondsValue
            if r > 0 { samples.append(Double(test.tokens) / seconds) }   // r == 0 is the warm-up
        }
        return Result(test: test, threads: threads, samples: samples, foreignLoad: load.foreignFraction())
    }

    /// Runs an inference test (prompt or generation) `repetitions` times after a warm-up, on a fresh cache each
    /// time. A batched generation test needs a session with at least `test.sequences` sequences.
    public static func run(_ test: Test, session: Qwen2Session, repetitions: Int) throws -> Result {
        let vocab = session.model.config.vocabularySize
        func token(_ i: Int) -> Int { ordinaryToken(i, vocabulary: vocab) }
        let sequences = test.sequences
        return try measure(test, threads: session.threads, repetitions: repetitions, prepare: {
            session.reset()
            if test.depth > 0 {
                _ = try session.decode((0..<test.depth).map(token), logits: .none)
                for s in 1..<sequences { session.copyPrefix(from: 0, to: s, count: test.depth) }
            }
        }) {
            switch test.work {
            case .prompt(let n):
                _ = try session.decode((0..<n).map(token), logits: .last)
            case .generation(let n, _) where sequences > 1:
                for i in 0..<n { _ = try session.decodeStep((0..<sequences).map { ($0, token(i + 31 * $0)) }) }
            case .generation(let n, _):
                for i in 0..<n { _ = try session.decode([token(i)], logits: .last) }
            case .training:
                preconditionFailure("a training test runs with Benchmark.train")
            }
        }
    }

    /// Runs a training test: tokens/s of whole LoRA steps (forward, backward, AdamW) on `test`'s sequence length,
    /// batch 1, loss on every position (as PyTorch's causal-LM loss).
    public static func train(_ test: Test, model: Qwen2Model, config: LoRAConfig, threads: Int,
                             repetitions: Int) throws -> Result {
        guard case .training(let length, let products) = test.work else {
            preconditionFailure("Benchmark.train runs training tests")
        }
        let adapter = LoRAAdapter(config: config, model: model.config)
        adapter.initializePEFT(seed: 0)
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: length, threads: threads, products: products)
        let optimizer = AdamW(count: adapter.count)
        let tokens = (0..<length).map { ordinaryToken($0, vocabulary: model.config.vocabularySize) }
        let loss = CrossEntropyLoss(tokens: tokens)
        return try measure(test, threads: threads, repetitions: repetitions) {
            backprop.zeroGradients()
            try backprop.accumulate(tokens: tokens, loss: loss)
            optimizer.update(adapter.parameters, backprop.gradients, lr: 1e-4)
        }
    }
}
