import Foundation
import LoRA
import Qwen2
import Sampling

/// Knobs of a supervised LoRA run.
public struct SFTSettings: Codable, Sendable, Equatable {
    public var learningRate: Float = 2e-4
    public var warmupSteps = 10
    /// Optimiser steps in the whole run.
    public var steps = 100
    /// Sequences whose gradients are summed per optimiser step, on each rank (a step of an N-rank job sums
    /// N times as many).
    public var gradientAccumulation = 1
    /// Largest gradient L2 norm (0: no clipping).
    public var maxGradNorm: Float = 1
    public var weightDecay: Float = 0
    /// Cosine decay ends at this fraction of the peak rate.
    public var minLearningRateRatio: Float = 0.1
    public var seed: UInt64 = 0
    /// Validation loss every this many steps (0: never).
    public var validationEvery = 0
    /// A checkpoint every this many steps (0: only at the end and on interruption).
    public var checkpointEvery = 50
    public init() {}

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, warmup: warmupSteps, total: steps, minRatio: minLearningRateRatio)
    }
}

/// What one optimiser step did.
public struct StepReport: Sendable {
    public let step: Int
    public let loss: Double
    public let gradientNorm: Float
    public let learningRate: Float
    /// Tokens processed (forward + backward) in this step, and its wall time.
    public let tokens: Int
    public let seconds: Double
    public var validationLoss: Double?
}

/// The supervised fine-tuning loop: seeded data order, gradient accumulation, clipping, AdamW with warm-up and
/// cosine decay, validation, atomic checkpoints. Data-parallel over a `Collective`: a step takes the next
/// accumulation × ranks examples in the data order, rank r computes the r-th run of `gradientAccumulation` of them,
/// and the gradients are summed before the (identical) update on every rank; N ranks thus make the update one rank
/// makes with N times the accumulation, up to the order of float additions.
public final class SFTTrainer {
    public let backprop: LoRABackprop
    public let optimizer: AdamW
    public let settings: SFTSettings
    public private(set) var state: TrainingState
    public let train: [SFTExample]
    public let validation: [SFTExample]
    private var order: DataOrder
    public let collective: any Collective

    public init(backprop: LoRABackprop, optimizer: AdamW, settings: SFTSettings, state: TrainingState,
                train: [SFTExample], validation: [SFTExample] = [], collective: any Collective = SingleProcess()) {
        self.collective = collective
        precondition(!train.isEmpty, "no training examples")
        self.backprop = backprop
        self.optimizer = optimizer
        self.settings = settings
        self.state = state
        self.train = train
        self.validation = validation
        optimizer.weightDecay = settings.weightDecay
        order = DataOrder(count: train.count, state: state)
    }

    public var adapter: LoRAAdapter { backprop.adapter }
    public var finished: Bool { state.step >= settings.steps }

    private func nextExample() -> SFTExample { train[order.next(&state)] }

    /// One optimiser step.
    public func step() throws -> StepReport {
        let start = Date()
        backprop.zeroGradients()
        var loss = 0.0, tokens = 0
        let perRank = max(settings.gradientAccumulation, 1)
        let accumulation = perRank * collective.size   // the step's examples over all ranks
        for micro in 0..<accumulation {
            let example = nextExample()
            guard micro / perRank == collective.rank else { continue }
            let ce = CrossEntropyLoss(tokens: example.tokens, trained: example.trained,
                                      weight: 1 / Float(max(example.trainedCount, 1) * accumulation))
            let seed = state.seed ^ UInt64(state.step * accumulation + micro + 1)
            loss += try backprop.accumulate(tokens: example.tokens, loss: ce, dropoutSeed: seed)
            tokens += example.tokens.count
        }
        try collective.sum(backprop.gradients, count: adapter.count)
        let totals = try collective.sum([loss, Double(tokens)])
        (loss, tokens) = (totals[0], Int(totals[1]))
        let norm = clipGradientNorm(backprop.gradients, count: adapter.count, maxNorm: settings.maxGradNorm)
        let lr = settings.schedule.rate(at: state.step)
        optimizer.update(adapter.parameters, backprop.gradients, lr: lr)
        state.step += 1
        state.losses.append(loss)
        var report = StepReport(step: state.step, loss: loss, gradientNorm: norm, learningRate: lr, tokens: tokens,
                                seconds: Date().timeIntervalSince(start))
        if settings.validationEvery > 0, !validation.isEmpty, state.step % settings.validationEvery == 0 || finished {
            report.validationLoss = try validationLoss()
        }
        return report
    }

    /// Mean over the validation sequences of their mean completion cross-entropy.
    /// (The ranks share the sequences out and sum.)
    public func validationLoss() throws -> Double {
        var total = 0.0
        for (i, example) in validation.enumerated() where i % collective.size == collective.rank {
            total += try backprop.loss(tokens: example.tokens, loss: CrossEntropyLoss(tokens: example.tokens, trained: example.trained))
        }
        total = try collective.sum([total])[0]
        return total / Double(max(validation.count, 1))
    }

    /// (Rank 0 alone writes it.)
    public func saveCheckpoint(to path: String) throws {
        guard collective.isLeader else { return }
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try Checkpoint.save(to: path, adapter: adapter, optimizer: optimizer, state: state, settings: settingsJSON)
    }

    /// Steps until the run is finished or `shouldStop` says so; checkpoints every `checkpointEvery` steps and
    /// when stopping (if `checkpointPath` is set).
    public func run(checkpointPath: String?, shouldStop: () -> Bool = { false }, report: (StepReport) -> Void) throws {
        while !finished {
            if try collective.anyRank(shouldStop()) { break }
            let r = try step()
            report(r)
            if let checkpointPath, settings.checkpointEvery > 0, state.step % settings.checkpointEvery == 0 {
                try saveCheckpoint(to: checkpointPath)
            }
        }
        if let checkpointPath { try saveCheckpoint(to: checkpointPath) }
    }
}
