import Foundation
import LoRA
import Qwen2
import Testing
import TestSupport
@testable import Training

@Suite struct TrainingLoopTests {
    static func trainer(_ model: Qwen2Model, adapter: LoRAAdapter? = nil, optimizer: AdamW? = nil, state: TrainingState = TrainingState(seed: 5),
                        settings: SFTSettings, examples: [SFTExample], threads: Int = 1,
                        products: BaseProducts = .exact) -> SFTTrainer {
        let adapter = adapter ?? {
            let a = LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), model: model.config)
            a.initializePEFT(seed: 1)
            return a
        }()
        let backprop = LoRABackprop(model: model, adapter: adapter, maxTokens: 32, threads: threads, products: products)
        return SFTTrainer(backprop: backprop, optimizer: optimizer ?? AdamW(count: adapter.count), settings: settings,
                          state: state, train: examples)
    }

    static let sequence = [3, 17, 42, 5, 60, 8, 8, 29, 1, 33, 12, 12, 50, 7]
    static func example(_ tokens: [Int]) -> SFTExample {
        SFTExample(tokens: tokens, trained: [false, false, false] + [Bool](repeating: true, count: tokens.count - 3))
    }

    /// A tiny model with a LoRA adapter memorises one sequence, with either kind of base products (integer: its
    /// f32 matrices of whole 32-row blocks — q, o, gate, up, down — take the 7-bit transposed backward product).
    @Test(arguments: [BaseProducts.exact, .integer])
    func overfitsOneSequence(_ products: BaseProducts) throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 2, ff: 64))
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = SFTSettings()
        settings.learningRate = 1e-2
        settings.warmupSteps = 5
        settings.steps = 300
        settings.minLearningRateRatio = 1
        settings.maxGradNorm = 0
        let trainer = Self.trainer(model, settings: settings, examples: [Self.example(Self.sequence)], products: products)
        if products == .integer {
            let covered = LoRATarget.allCases.filter { trainer.backprop.transposed?.layers[0][$0.index] != nil }
            #expect(covered == [.q, .o, .gate, .up, .down])
        }
        var losses: [Double] = []
        try trainer.run(checkpointPath: nil) { losses.append($0.loss) }
        print("overfit (\(products) products): loss \(losses.first!) → \(losses.last!)", stride(from: 0, to: losses.count, by: 25).map { losses[$0] })
        #expect(losses.first! > 3)
        #expect(losses.last! < 0.05)
        // Greedy decoding with the trained adapter now reproduces the sequence.
        let session = Qwen2Session(model: model, contextSize: 32, maxBatch: 32, threads: 1)
        session.adapter = trainer.adapter
        let logits = try session.decode(Self.sequence, logits: .all)
        let vocab = model.config.vocabularySize
        for t in 2..<Self.sequence.count - 1 {
            let row = logits[t * vocab..<(t + 1) * vocab]
            #expect(row.firstIndex(of: row.max()!)! - t * vocab == Self.sequence[t + 1])
        }
    }

    /// Stopping, checkpointing and resuming gives the same loss trajectory as one uninterrupted run.
    @Test func resumeContinuesTheSameTrajectory() throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 3))
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = SFTSettings()
        settings.steps = 8
        settings.warmupSteps = 2
        settings.learningRate = 1e-2
        settings.gradientAccumulation = 2
        settings.weightDecay = 0.01
        let examples = (0..<3).map { k in Self.example(Self.sequence.map { ($0 * (k + 2) + k) % 61 }) }
        var config = LoRAConfig(rank: 4, alpha: 8)
        config.dropout = 0.1
        let fresh = { () -> LoRAAdapter in
            let a = LoRAAdapter(config: config, model: model.config)
            a.initializePEFT(seed: 1)
            return a
        }
        let whole = Self.trainer(model, adapter: fresh(), settings: settings, examples: examples)
        try whole.run(checkpointPath: nil) { _ in }

        let path = dir.appendingPathComponent("ckpt.gguf").path
        let first = Self.trainer(model, adapter: fresh(), settings: settings, examples: examples)
        var steps = 0
        try first.run(checkpointPath: path, shouldStop: { steps >= 3 }) { _ in steps += 1 }
        #expect(first.state.step == 3)
        let loaded = try Checkpoint.load(from: path, model: model.config)
        #expect(loaded.state == first.state)
        let resumed = Self.trainer(model, adapter: loaded.adapter, optimizer: loaded.optimizer, state: loaded.state,
                                   settings: settings, examples: examples)
        try resumed.run(checkpointPath: path) { _ in }
        #expect(resumed.state.losses == whole.state.losses)
        #expect((0..<whole.adapter.count).allSatisfy { whole.adapter.parameters[$0] == resumed.adapter.parameters[$0] })
    }

    /// A checkpoint that is cut short (a crash while writing) never replaces the previous one.
    @Test func interruptedCheckpointWriteKeepsThePreviousOne() throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 3))
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = SFTSettings()
        settings.steps = 2
        let trainer = Self.trainer(model, settings: settings, examples: [Self.example(Self.sequence)])
        let path = dir.appendingPathComponent("ckpt.gguf").path
        try trainer.run(checkpointPath: path) { _ in }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // A writer killed mid-way leaves only its `.partial` file; the checkpoint itself is untouched and loads.
        try before.prefix(before.count / 2).write(to: URL(fileURLWithPath: path + ".partial"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try Checkpoint.load(from: path, model: model.config).state.step == 2)
        #expect(throws: AdapterError.self) { try Checkpoint.load(from: path + ".partial", model: model.config) }
    }
}
