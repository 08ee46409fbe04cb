import ArgumentParser
import Benchmarking
import CLISupport
import ConsoleUI
import Distributed
import Engine
import Foundation
import GGUF
import LoRA
import ModelStore
import Quants
import Qwen2
import Training

@main
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea-train",
        abstract: "Fine-tune a LoRA adapter on a frozen, quantized Qwen2-family model, on the CPU.",
        subcommands: [SFTCommand.self, VPGEACommand.self, MergeCommand.self])
}

/// Options every training method shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "The base model: a GGUF path, a catalog name or a URL.")
    var model: String

    @Option(help: "Where to write the adapter (llama.cpp LoRA GGUF; load it with vpgea-run --lora or llama.cpp --lora).")
    var out: String

    @Option(name: .customLong("peft-out"), help: "Also write the adapter as a PEFT directory (adapter_config.json + safetensors).")
    var peftOut: String?

    @Option(help: "LoRA rank.")
    var rank = 16

    @Option(help: "LoRA alpha (the branch is scaled by alpha/rank).")
    var alpha: Float = 32

    @Option(help: "Dropout on the adapter branch's input.")
    var dropout: Float = 0

    @Option(help: "Adapted layers: any of q,k,v,o,gate,up,down, or all.")
    var targets = "all"

    @Flag(help: "rsLoRA: scale by alpha/√rank instead of alpha/rank.")
    var rslora = false

    @Option(help: "Peak learning rate (default: 2e-4 for sft, 1e-4 for vpgea).")
    var lr: Float?

    @Option(help: "Warm-up steps (linear from 0), then cosine decay.")
    var warmup = 10

    @Option(name: .customLong("min-lr-ratio"), help: "The cosine ends at this fraction of the peak rate.")
    var minLRRatio: Float = 0.1

    @Option(name: .customLong("grad-accum"), help: "Sequences per optimiser step (gradient accumulation).")
    var gradAccum = 1

    @Option(name: .customLong("max-grad-norm"), help: "Clip the gradient's L2 norm to this (0: no clipping).")
    var maxGradNorm: Float = 1

    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay.")
    var weightDecay: Float = 0

    @Option(name: .customLong("max-tokens"), help: "sft: longest training sequence (longer ones are cut; default 1024); vpgea: the generation limit L_max (default 512).")
    var maxTokens: Int?

    @Option(help: "Seed of the adapter's initialisation, the data order and dropout.")
    var seed: UInt64 = 0

    @Option(name: [.short, .customLong("threads")], help: "Threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Checkpoint file (default: OUT.ckpt). Written atomically; Ctrl-C writes one and stops.")
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints.")
    var checkpointEvery = 50

    @Flag(help: "Continue from the checkpoint (same data and settings).")
    var resume = false

    @Option(help: ArgumentHelp(
        "How the frozen base weights are multiplied: exact (f32; PEFT's gradients to 1e-3) or integer (8-bit forward, "
            + "7-bit transposed copies backward: faster, 1.25 bytes more memory per weight, gradients off by several "
            + "percent, more in the first layers; Benchmarks/README.md has the figures).", valueName: "exact|integer"))
    var products: BaseProducts = .exact

    @Option(help: ArgumentHelp(
        "Each layer's activations: keep them from the forward pass, or recompute each layer in the backward pass "
            + "(a third more arithmetic, a fraction of the memory). auto keeps them when they fit in a third of "
            + "this machine's memory.", valueName: "auto|keep|recompute"))
    var activations: ActivationMemory = .auto

    var checkpointPath: String { checkpoint ?? out + ".ckpt" }

    /// A fresh adapter (PEFT's initialisation), or the checkpoint's adapter, optimiser and state with --resume.
    func startingPoint(model: Qwen2Config) throws -> (LoRAAdapter, AdamW, TrainingState) {
        if resume {
            let loaded = try Checkpoint.load(from: checkpointPath, model: model)
            printError("resuming from \(checkpointPath) at step \(loaded.state.step)")
            return (loaded.adapter, loaded.optimizer, loaded.state)
        }
        let adapter = LoRAAdapter(config: try loraConfig(), model: model)
        adapter.initializePEFT(seed: seed)
        return (adapter, AdamW(count: adapter.count), TrainingState(seed: seed))
    }

    /// Says what `--products integer` is doing at start, where building the weight copies takes a few seconds.
    func announceProducts() {
        guard products == .integer else { return }
        printError("--products integer: building 7-bit transposed copies of the base weights for the backward pass")
    }

    /// The copies' size, once built.
    func reportProducts(_ backprop: LoRABackprop) {
        guard products == .integer else { return }
        printError(String(format: "  built: %.2f GiB", Double(backprop.transposedBytes) / Double(1 << 30)))
    }

    /// What the activations of the longest sequence take, whether they are kept, and what the products run on.
    func reportActivations(_ backprop: LoRABackprop) {
        let bytes = LoRABackprop.activationBytes(backprop.model.config, adapter: backprop.adapter.config,
                                                 tokens: backprop.maxTokens)
        let gib = String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
        printError(backprop.recompute ? "activations: recomputed layer by layer (keeping them would take \(gib))"
                                      : "activations: kept (\(gib))")
        printError("machine: \(MachineFacts.summary(kernelNote: RuntimeEnvironment.kernelNote))")
    }

    /// Runs `body` in this process's MPI job (a single process without mpirun), with errors reported as
    /// `reportingErrors` does. Rank 0 alone writes; an error on any rank ends the whole job, which would otherwise
    /// wait in a sum for the rank that left.
    static func inJob(_ body: (any Collective) throws -> Void) throws {
        RuntimeEnvironment.apply()
        let job: any Collective = try reportingErrors { try MPIJob.join() }
        if !job.isLeader { Output.quiet = true }   // one voice: rank 0 reports, the others compute
        do {
            try reportingErrors { try body(job) }
        } catch {
            if job.size > 1 { MPIJob.abortJob() }
            throw error
        }
        (job as? MPIJob)?.finish()
    }

    func loraConfig() throws -> LoRAConfig {
        guard let list = LoRATarget.parseList(targets) else {
            throw ValidationError("--targets: use names from q,k,v,o,gate,up,down (or all), comma-separated")
        }
        guard rank > 0, dropout >= 0, dropout < 1 else { throw ValidationError("--rank must be positive and --dropout in [0, 1)") }
        return LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: list, rsLoRA: rslora)
    }
}

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning on prompt/completion or chat records.",
        discussion: """
            DATA is JSONL, one record per line: {"prompt": "...", "completion": "..."} or \
            {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}. \
            Only the completion (the last assistant message) is trained. A bad record is reported with its line \
            number and skipped (--strict stops instead).
            Example:
              vpgea-train sft --model qwen2.5-coder-0.5b-instruct --data train.jsonl --out my-adapter.gguf --steps 200
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Training data (JSONL).")
    var data: String

    @Option(help: "Validation data (JSONL); default: none.")
    var validation: String?

    @Option(name: .customLong("valid-every"), help: "Validation loss every N steps (0: at the end only).")
    var validEvery = 0

    @Option(help: "Optimiser steps (default: one pass over the data).")
    var steps: Int?

    @Option(help: "How records become text: chat (the model's template) or raw (prompt + completion + EOS).")
    var format: SFTDataset.Format = .chat

    @Flag(help: "Stop at the first bad record instead of skipping it.")
    var strict = false

    mutating func run() throws { try CommonOptions.inJob(train) }

    private func train(_ job: any Collective) throws {
        let url = try resolveModel(common.model)
        let bundle = try ModelBundle(path: url.path)
        let trainSet = try SFTDataset(path: data, bundle: bundle, format: format, maxTokens: (common.maxTokens ?? 1024), strict: strict)
        for problem in trainSet.skipped { printError("warning: \(data) \(problem) (skipped)") }
        guard !trainSet.examples.isEmpty else { throw AdapterError("\(data) has no usable records") }
        let validSet = try validation.map { try SFTDataset(path: $0, bundle: bundle, format: format, maxTokens: (common.maxTokens ?? 1024), strict: strict) }
        for problem in validSet?.skipped ?? [] { printError("warning: \(validation!) \(problem) (skipped)") }

        var settings = SFTSettings()
        settings.learningRate = common.lr ?? 2e-4
        settings.warmupSteps = common.warmup
        settings.minLearningRateRatio = common.minLRRatio
        settings.gradientAccumulation = max(common.gradAccum, 1)
        settings.steps = steps ?? max(1, trainSet.examples.count / settings.gradientAccumulation)
        settings.maxGradNorm = common.maxGradNorm
        settings.weightDecay = common.weightDecay
        settings.seed = common.seed
        settings.validationEvery = validEvery > 0 ? validEvery : settings.steps
        settings.checkpointEvery = common.checkpointEvery

        let (adapter, optimizer, state) = try common.startingPoint(model: bundle.model.config)
        let longest = (trainSet.examples + (validSet?.examples ?? [])).map(\.tokens.count).max() ?? 1
        common.announceProducts()
        let backprop = LoRABackprop(model: bundle.model, adapter: adapter, maxTokens: longest, threads: common.threads,
                                    recompute: common.activations.recompute, products: common.products)
        common.reportProducts(backprop)
        common.reportActivations(backprop)
        let trainer = SFTTrainer(backprop: backprop, optimizer: optimizer, settings: settings, state: state,
                                 train: trainSet.examples, validation: validSet?.examples ?? [], collective: job)
        if job.size > 1 {
            printError("MPI: \(job.size) ranks, \(settings.gradientAccumulation) sequence(s) each per step "
                + "(\(settings.gradientAccumulation * job.size) per step in all)")
        }
        printError("training \(adapter.count) adapter values (rank \(adapter.config.rank), \(adapter.config.targets.map(\.rawValue).joined(separator: ","))) "
            + "on \(trainSet.examples.count) sequences, \(settings.steps) steps; Ctrl-C saves a checkpoint and stops")
        Interrupt.install()
        let progress = TrainingProgress(total: settings.steps)
        try trainer.run(checkpointPath: common.checkpointPath, shouldStop: { Interrupt.requested }) { progress.show($0) }
        progress.finish()
        guard job.isLeader else { return }
        try adapter.saveGGUF(to: common.out, baseModelName: url.lastPathComponent)
        if let peftOut = common.peftOut { try adapter.savePEFT(to: URL(fileURLWithPath: peftOut), baseModel: url.lastPathComponent) }
        if Interrupt.requested {
            printError("stopped at step \(trainer.state.step) of \(settings.steps): checkpoint \(common.checkpointPath); continue with --resume")
        } else {
            printError("adapter written to \(common.out) (checkpoint \(common.checkpointPath))")
        }
    }
}

extension TrainingProgress {
    func show(_ r: StepReport) {
        show(step: r.step, loss: r.loss, learningRate: r.learningRate, tokens: r.tokens, seconds: r.seconds,
             validationLoss: r.validationLoss, extra: String(format: "|g| %.3f", r.gradientNorm))
    }
}

extension SFTDataset.Format: ExpressibleByArgument {}
extension BaseProducts: ExpressibleByArgument {}

/// `--activations`.
enum ActivationMemory: String, ExpressibleByArgument {
    case auto, keep, recompute

    /// LoRABackprop's `recompute` (nil: its own rule).
    var recompute: Bool? { self == .auto ? nil : self == .recompute }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a LoRA adapter into the base model's weights and write a new GGUF.",
        discussion: """
            The adapted weights become W + scale·B·A, re-quantized (Q8_0 by default); every other tensor is \
            copied unchanged. Re-quantizing to a 4- or 5-bit type adds a second rounding on top of the original \
            one (on the 0.5B: logits off by up to ~6 at some positions with --type keep, against ~0.3 with q8_0). \
            --type keep writes each weight in its original type when vpgea can quantize it (F32, F16, BF16, \
            Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) and in Q8_0 otherwise.
            Example: vpgea-train merge --model base.gguf --lora adapter.gguf --out merged.gguf
            """)

    @Option(help: "The base model: a GGUF path, a catalog name or a URL.")
    var model: String

    @Option(help: "The adapter (GGUF or PEFT directory).")
    var lora: String

    @Option(name: .customLong("lora-scale"), help: "Multiplies the adapter's effect.")
    var loraScale: Float = 1

    @Option(help: "The merged GGUF to write.")
    var out: String

    @Option(help: "Type of the merged weights: q8_0, keep, f32, f16, bf16, q4_0, q5_0, q4_k or q6_k.")
    var type = "q8_0"

    mutating func run() throws {
        try reportingErrors {
            let target: MergedExport.Target
            if type == "keep" {
                target = .keep
            } else if let t = Quantize.supported.first(where: { $0.name.lowercased() == type.lowercased() }) {
                target = .type(t)
            } else {
                throw ValidationError("--type: keep, " + Quantize.supported.map { $0.name.lowercased() }.joined(separator: ", "))
            }
            let url = try resolveModel(model)
            let base = try GGUFFile(path: url.path)
            let adapter = try LoRAAdapter.load(path: lora, model: try Qwen2Model(file: base).config)
            adapter.userScale = loraScale
            let bar = ProgressBar(label: "writing", total: base.fileSize)
            let changed = try MergedExport.write(base: base, adapter: adapter, to: out, target: target) { done, _ in bar.update(done) }
            bar.finish()
            if target == .keep, !changed.isEmpty {
                let types = Set(changed.map { "\($0.1.name) → \($0.2.name)" }).sorted().joined(separator: ", ")
                printError("note: \(changed.count) merged weights changed type (\(types)): vpgea cannot write their original types")
            }
            printError("merged model written to \(out)")
        }
    }
}
