import ArgumentParser
import CLISupport
import ConsoleUI
import Distributed
import Engine
import Foundation
import ModelStore
import Qwen2
import Training
import VPGEA

struct VPGEACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpgea",
        abstract: "VPG-EA: learn to reason shorter at equal accuracy (or a baseline: --method grpo-length | shortest-sft).",
        discussion: """
            Each step samples --group-size completions per problem from the posterior view (question + a hint with \
            the reference answer) and from the prior view (question only), in one batch; keeps correct, \
            better-than-average posterior paths that pass the cross-view check (no leak, plausible under the prior, \
            the reasoning supports the answer); and distils them into the prior (--mode token: full-vocabulary KL \
            against the posterior view; sequence: weighted NLL). The method and its defaults are described in \
            Sources/VPGEA/METHOD.md; choices marked "ours" there are knobs here.
            Example:
              vpgea-train vpgea --model qwen2.5-coder-0.5b-instruct --out vpgea.gguf --steps 20 --max-tokens 256
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Training problems (JSONL; default: the GSM8K train split that ships with vpgea).")
    var data: String?

    @Option(help: "How answers are checked: gsm8k, math500 or aime24.")
    var bench: BenchmarkKind = .gsm8k

    @Option(help: "vpgea, grpo-length or shortest-sft.")
    var method: VPGEASettings.Method = .vpgea

    @Option(help: "Distillation: token (KL against the posterior view) or sequence (weighted NLL).")
    var mode: VPGEASettings.DistillationMode = .token

    @Option(help: "Optimiser steps.")
    var steps = 20

    @Option(name: .customLong("problems-per-step"), help: "Problems per step (B).")
    var problemsPerStep = 4

    @Option(name: .customLong("group-size"), help: "Samples per view and problem (G).")
    var groupSize = 4

    @Option(name: .customLong("posterior-samples"), help: "Posterior-view samples per problem (default: G).")
    var posteriorSamples: Int?

    @Option(name: .customLong("prior-samples"), help: "Prior-view samples per problem (default: G).")
    var priorSamples: Int?

    @Option(help: "Rollout temperature.")
    var temperature: Float = 0.8

    @Option(name: .customLong("top-p"), help: "Rollout top-p.")
    var topP: Float = 0.95

    @Option(help: "λ: length penalty in U = c − λ·|z|/L_max.")
    var lambda: Float = 0.5

    @Option(help: "δ: least support of the answer by the reasoning (ours).")
    var delta: Float = 0

    @Option(help: "τ: least mean log-probability of a path under the prior view (ours).")
    var tau: Float = -2.5

    @Option(help: "The instruction after the question in both views (and, for a fair comparison, in vpgea-eval's --instruction).")
    var instruction = VPGEASettings().instruction

    @Option(help: "The posterior view's hint: {answer} is the reference answer, {solution} its worked solution (ours).")
    var hint = VPGEASettings().hint

    @Option(name: .customLong("min-reasoning"), help: "Least reasoning tokens before the final answer of a distilled path (ours).")
    var minReasoning = 8

    @Option(name: .customLong("answer-first-window"), help: "Reject paths that state the reference answer within this first fraction of their reasoning (0: off; ours).")
    var answerFirstWindow: Float = 0.25

    @Option(name: .customLong("length-gate"), help: "Distil only paths shorter than the prior view's correct paths of the problem: on or off (ours).")
    var lengthGate: Switch = .on

    @Option(name: .customLong("posterior-model"), help: "What the posterior view runs on: shared (the base with the adapter, as the prior; the method's design) or base (the frozen base alone, so that its paths and the teacher do not follow the prior as it shortens; ours).")
    var posteriorModel: VPGEASettings.PosteriorModel = .shared

    @Option(name: .customLong("support-target"), help: "What support scores: answer (its tokens, the method's definition) or template (the whole answer sentence, the old behaviour).")
    var supportTarget: SupportTarget = .answer

    @Option(name: .customLong("beta-on"), help: "Which paths the β term trains: passing (those that pass the cross-view check) or all.")
    var betaOn: BetaPaths = .passing

    @Option(name: .customLong("scoring-products"), help: "The passes that only score (support, plausibility, the posterior teacher): training (the products of --products, as the rollouts' logits are) or exact (f32 whatever --products is; slower with --products integer; ours).")
    var scoringProducts: ScoringProducts = .training

    enum Switch: String, ExpressibleByArgument { case on, off }
    enum ScoringProducts: String, ExpressibleByArgument { case training, exact }
    enum SupportTarget: String, ExpressibleByArgument { case answer, template }
    enum BetaPaths: String, ExpressibleByArgument { case passing, all }

    @Option(help: "β: weight of the posterior policy-gradient term (0, the default: off; under Adam even a small β moves the adapter at the full learning rate in steps with nothing distilled).")
    var beta: Float = 0

    @Option(name: .customLong("stop-after"), help: "Stop after this step as Ctrl-C would (checkpoint and adapter written), the learning-rate schedule still that of --steps: a long run in pieces (continue with --resume), each piece's adapter evaluated on its own.")
    var stopAfter: Int?

    @Option(help: "JSONL log of every step (default: OUT.log.jsonl).")
    var log: String?

    mutating func run() throws { try CommonOptions.inJob(train) }

    private func train(_ job: any Collective) throws {
        let files: [String]
        do { files = try self.data.map { [$0] } ?? Dataset.shipped(bench, split: "train") } catch {
            throw CommandFailure("\(error); give the file with --data")
        }
        let data = self.data ?? "the shipped \(bench.rawValue) train split"
        let dataset = try Dataset(kind: bench, paths: files)
        for problem in dataset.skipped { printError("warning: \(data) \(problem) (skipped)") }
        guard !dataset.problems.isEmpty else { throw DatasetError("\(data) has no usable problems") }
        let url = try resolveModel(common.model)
        let bundle = try ModelBundle(path: url.path)
        var settings = VPGEASettings()
        settings.method = method
        settings.mode = mode
        settings.steps = steps
        settings.problemsPerStep = max(problemsPerStep, 1)
        settings.groupSize = max(groupSize, 2)
        settings.posteriorSamples = posteriorSamples.map { max($0, 2) }
        settings.priorSamples = priorSamples.map { max($0, 1) }
        settings.minReasoningTokens = minReasoning
        settings.instruction = instruction
        settings.hint = hint
        settings.answerFirstWindow = answerFirstWindow
        settings.lengthGate = lengthGate == .on
        settings.posteriorModel = posteriorModel
        settings.supportOnAnswerTokens = supportTarget == .answer
        settings.posteriorTermOnPassing = betaOn == .passing
        settings.exactScoring = scoringProducts == .exact
        settings.temperature = temperature
        settings.topP = topP
        settings.maxTokens = common.maxTokens ?? 512
        settings.lengthPenalty = lambda
        settings.supportThreshold = delta
        settings.plausibilityThreshold = tau
        settings.posteriorWeight = beta
        settings.learningRate = common.lr ?? 1e-4
        settings.warmupSteps = min(common.warmup, steps / 4)
        settings.maxGradNorm = common.maxGradNorm
        settings.weightDecay = common.weightDecay
        settings.seed = common.seed
        settings.checkpointEvery = common.checkpointEvery
        if let conflict = settings.conflict { throw CommandFailure("--posterior-model base with --beta above 0: \(conflict)") }

        let (adapter, optimizer, state) = try common.startingPoint(model: bundle.model.config)
        common.announceProducts()
        let trainer = try VPGEATrainer(bundle: bundle, adapter: adapter, optimizer: optimizer, state: state, settings: settings,
                                       kind: bench, problems: dataset.problems, threads: common.threads,
                                       products: common.products, recompute: common.activations.recompute, collective: job)
        common.reportProducts(trainer.backprop)
        common.reportActivations(trainer.backprop)
        let logPath = log ?? common.out + ".log.jsonl"
        let logFile = job.isLeader ? try StepLog.open(logPath, resume: common.resume, checkpointStep: state.step) : nil
        if job.size > 1 { printError("MPI: \(job.size) ranks share each step's problems") }
        printError("\(method.rawValue): \(dataset.problems.count) problems, \(steps) steps of \(settings.problemsPerStep) problems × "
            + (method == .vpgea ? "\(settings.posteriorCount) posterior and \(settings.priorCount) prior" : "\(settings.priorCount)")
            + " samples, L_max \(settings.maxTokens); "
            + "Ctrl-C saves a checkpoint and stops")
        Interrupt.install()
        let progress = TrainingProgress(total: steps)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var stopped = false
        while !trainer.finished {
            stopped = try job.anyRank(Interrupt.requested) || stopAfter.map { trainer.state.step >= $0 } == true
            if stopped { break }
            let terminal = isatty(STDERR_FILENO) != 0
            let r = try trainer.step { done, active in
                if terminal { writeStandardError("\r\u{1B}[2Krollouts: \(done) tokens, \(active) sequences running") }
            }
            if terminal { writeStandardError("\r\u{1B}[2K") }
            var line = try encoder.encode(r)
            line.append(0x0A)
            logFile?.write(line)
            let removed = "removed length \(r.removedLength)/leak \(r.removedLeak)/empty \(r.removedEmpty)/first \(r.removedAnswerFirst)"
                + "/plaus \(r.removedPlausibility)/support \(r.removedSupport) of \(r.candidates)"
            progress.show(step: r.step, loss: r.distillationLoss + r.posteriorLoss + r.policyLoss, learningRate: r.learningRate,
                          tokens: r.rolloutTokens, seconds: r.seconds,
                          extra: String(format: "post %.0f%%/%.0f tok  prior %.0f%%/%.0f tok  %@  distilled %d  rollout %.1f tok/s",
                                        r.posteriorAccuracy * 100, r.posteriorMeanTokens, r.priorAccuracy * 100, r.priorMeanTokens,
                                        method == .vpgea ? removed : "", r.distilled, r.rolloutTokensPerSecond))
            if settings.checkpointEvery > 0, r.step % settings.checkpointEvery == 0 { try trainer.saveCheckpoint(to: common.checkpointPath) }
        }
        progress.finish()
        try trainer.saveCheckpoint(to: common.checkpointPath)
        guard job.isLeader else { return }
        try adapter.saveGGUF(to: common.out, baseModelName: url.lastPathComponent)
        if let peftOut = common.peftOut { try adapter.savePEFT(to: URL(fileURLWithPath: peftOut), baseModel: url.lastPathComponent) }
        printError(stopped
            ? "stopped at step \(trainer.state.step): checkpoint \(common.checkpointPath); continue with --resume"
            : "adapter written to \(common.out); log \(logPath)")
    }
}

extension VPGEASettings.Method: ExpressibleByArgument {}
extension VPGEASettings.DistillationMode: ExpressibleByArgument {}
extension VPGEASettings.PosteriorModel: ExpressibleByArgument {}
extension BenchmarkKind: ExpressibleByArgument {}
