import Engine
import Foundation
import LoRA
import Qwen2
import Sampling
import Training

/// What one step did, for the progress line and the JSONL log.
public struct VPGEAStepReport: Codable, Sendable {
    public var step = 0
    public var posteriorAccuracy = 0.0
    public var priorAccuracy = 0.0
    public var posteriorMeanTokens = 0.0
    public var priorMeanTokens = 0.0
    /// Candidates (gate > 0) and how many the cross-view check removed, by reason.
    public var candidates = 0
    public var removedLength = 0
    public var removedLeak = 0
    public var removedEmpty = 0
    public var removedAnswerFirst = 0
    public var removedPlausibility = 0
    public var removedSupport = 0
    public var distilled = 0
    /// Mean tokens of the distilled paths, and of the prior view's correct paths of the same problems (0: none).
    public var distilledMeanTokens = 0.0
    public var priorCorrectMeanTokens = 0.0
    /// Mean tokens of the posterior view's correct paths (0: none).
    public var posteriorCorrectMeanTokens = 0.0
    public var distillationLoss = 0.0
    public var posteriorLoss = 0.0
    public var policyLoss = 0.0
    public var gradientNorm: Float = 0
    public var learningRate: Float = 0
    public var rolloutTokens = 0
    public var rolloutTokensPerSecond = 0.0
    public var seconds = 0.0
}

/// The VPG-EA training loop (and its baselines) on a frozen base with a shared LoRA adapter.
public final class VPGEATrainer {
    public let bundle: ModelBundle
    public let settings: VPGEASettings
    public let kind: BenchmarkKind
    public let problems: [Problem]
    public let backprop: LoRABackprop
    public let optimizer: AdamW
    public internal(set) var state: TrainingState
    let views: Views
    let session: Qwen2Session
    let generator: BatchGenerator
    private var order: DataOrder
    /// The support test's answer-without-reasoning scores of this optimiser step (the adapter does not change within
    /// a step), by scored tokens: the same for every path of a problem, so computed once per problem.
    private var scoresWithoutReasoning: (step: Int, scores: [[Int]: Double]) = (-1, [:])
    /// Data parallelism: each rank rolls out, scores and differentiates its share of a step's problems (problem k
    /// on rank k mod ranks); gradients and the report's counts are summed over the ranks.
    public let collective: any Collective

    public var adapter: LoRAAdapter { backprop.adapter }

    public init(bundle: ModelBundle, adapter: LoRAAdapter, optimizer: AdamW, state: TrainingState, settings: VPGEASettings,
                kind: BenchmarkKind, problems: [Problem], threads: Int, products: BaseProducts = .exact,
                recompute: Bool? = nil, collective: any Collective = SingleProcess()) throws {
        precondition(!problems.isEmpty)
        if let conflict = settings.conflict { throw SettingsConflict(description: conflict) }
        self.collective = collective
        self.bundle = bundle
        self.settings = settings
        self.kind = kind
        self.problems = problems
        self.optimizer = optimizer
        self.state = state
        optimizer.weightDecay = settings.weightDecay
        let views = Views(bundle: bundle, settings: settings)
        self.views = views
        // Room for the longest of the first problems' prompts with a margin; longer problems are skipped.
        let longestPrompt = try problems.prefix(256).map { try views.posterior($0).count }.max() ?? 256
        let maxTokens = longestPrompt + 64 + settings.maxTokens + 64
        backprop = LoRABackprop(model: bundle.model, adapter: adapter, maxTokens: maxTokens, threads: threads,
                                recompute: recompute, products: products)
        let sequences = min(settings.rolloutsPerProblem * settings.problemsPerStep, 32)
        session = Qwen2Session(model: bundle.model, contextSize: maxTokens, maxBatch: max(512, sequences), threads: threads,
                               sequences: sequences)
        session.adapter = adapter
        generator = BatchGenerator(session: session, stopTokens: bundle.tokenizer.endOfGeneration)
        order = DataOrder(count: problems.count, state: state)
    }

    public var finished: Bool { state.step >= settings.steps }

    /// The next problems in the seeded order with their prior and posterior prompts (problems whose prompts
    /// leave no room for `maxTokens` are skipped).
    private func nextProblems() throws -> [(problem: Problem, prior: [Int], posterior: [Int])] {
        var out: [(problem: Problem, prior: [Int], posterior: [Int])] = []
        var tried = 0
        while out.count < settings.problemsPerStep {
            let p = problems[order.next(&state)]
            tried += 1
            let prior = try views.prior(p), posterior = try views.posterior(p)
            if posterior.count + settings.maxTokens + 64 <= backprop.maxTokens { out.append((p, prior, posterior)) }
            if tried > 4 * problems.count { throw DatasetError("every problem's prompt is too long for the context") }
        }
        return out
    }

    /// Samples `count` completions of `prompt` (seeded per step, view and sample).
    private func requests(_ prompt: [Int], count: Int, salt: UInt64, adapter: Bool = true) -> [BatchRequest] {
        (0..<count).map { i in
            let seed = settings.seed ^ (UInt64(state.step) << 20) ^ (salt << 8) ^ UInt64(i)
            return BatchRequest(prompt: prompt, sampling: .nucleus(temperature: settings.temperature, topP: settings.topP, seed: seed),
                                maxTokens: settings.maxTokens, adapter: adapter)
        }
    }

    /// One optimiser step: rollouts, scoring, the method's loss, AdamW.
    public func step(onRollout: ((Int, Int) -> Void)? = nil) throws -> VPGEAStepReport {
        let start = Date()
        var report = VPGEAStepReport()
        let chosen = try nextProblems()
        let batch = chosen.map(\.problem), priorPrompts = chosen.map(\.prior), posteriorPrompts = chosen.map(\.posterior)
        let mine = batch.indices.filter { $0 % collective.size == collective.rank }   // this rank's problems
        // 1. Rollouts: posterior and prior samples of every problem (seeds by problem, not by rank).
        let rolled = try rollouts(mine, priorPrompts: priorPrompts, posteriorPrompts: posteriorPrompts, onStep: onRollout)
        // 2. Score.
        var posterior: [Int: [ScoredCompletion]] = [:], prior: [Int: [ScoredCompletion]] = [:]
        for k in mine {
            func scored(_ outputs: [BatchCompletion]) -> [ScoredCompletion] {
                outputs.map { ScoredCompletion($0, problem: batch[k], kind: kind, bundle: bundle, settings: settings) }
            }
            posterior[k] = scored(rolled.posterior[k]!)
            prior[k] = scored(rolled.prior[k]!)
        }
        // 3–6. The method's loss, accumulated into the gradients.
        backprop.zeroGradients()
        let perProblem = 1 / Float(batch.count)
        var distilledTokens = 0, priorCorrect: [Int] = []
        for k in mine {
            let p = batch[k]
            switch settings.method {
            case .vpgea:
                let bar = Self.lengthBar(prior: prior[k]!.filter(\.correct).map(\.length),
                                         posterior: posterior[k]!.filter(\.correct).map(\.length))
                priorCorrect += prior[k]!.filter(\.correct).map(\.length)
                distilledTokens += try vpgeaLoss(problem: p, posterior: posterior[k]!, priorPrompt: priorPrompts[k],
                                                 posteriorPrompt: posteriorPrompts[k], lengthBar: bar, scale: perProblem,
                                                 report: &report)
            case .grpoLength:
                let advantages = groupAdvantages(prior[k]!.map(\.utility))
                for (z, a) in zip(prior[k]!, advantages) where a != 0 && !z.tokens.isEmpty {
                    report.policyLoss += try weightedNLL(priorPrompts[k], z.tokens, weight: a * perProblem / Float(z.length))
                }
            case .shortestSFT:
                if let best = prior[k]!.filter(\.correct).min(by: { $0.length < $1.length }) {
                    report.policyLoss += try weightedNLL(priorPrompts[k], best.tokens, weight: perProblem / Float(best.length))
                    report.distilled += 1
                    distilledTokens += best.length
                }
            }
        }
        // The step's counts over every rank's problems.
        let flatPrior = mine.flatMap { prior[$0]! }, flatPosterior = mine.flatMap { posterior[$0]! }
        let posteriorCorrect = flatPosterior.filter(\.correct).map(\.length)
        var totals = StepTotals(
            prior: flatPrior.count, priorCorrect: flatPrior.filter(\.correct).count,
            priorTokens: flatPrior.map(\.length).reduce(0, +), posterior: flatPosterior.count,
            posteriorCorrect: posteriorCorrect.count, posteriorTokens: flatPosterior.map(\.length).reduce(0, +),
            posteriorCorrectTokens: posteriorCorrect.reduce(0, +), priorCorrectCounted: priorCorrect.count,
            priorCorrectTokens: priorCorrect.reduce(0, +), distilledTokens: distilledTokens,
            rolloutTokens: rolled.tokens, rolloutSeconds: rolled.seconds)
        try collective.sum(backprop.gradients, count: adapter.count)
        try totals.sum(over: collective, report: &report)
        report.rolloutTokens = totals.rolloutTokens
        // Every rank generates at once: the job's rate is its tokens over one rank's (the slowest's, about) time.
        report.rolloutTokensPerSecond = Double(totals.rolloutTokens) / max(totals.rolloutSeconds / Double(collective.size), 1e-9)
        report.priorAccuracy = Double(totals.priorCorrect) / Double(max(totals.prior, 1))
        report.priorMeanTokens = Double(totals.priorTokens) / Double(max(totals.prior, 1))
        report.posteriorAccuracy = Double(totals.posteriorCorrect) / Double(max(totals.posterior, 1))
        report.posteriorMeanTokens = Double(totals.posteriorTokens) / Double(max(totals.posterior, 1))
        report.posteriorCorrectMeanTokens = totals.posteriorCorrect == 0 ? 0 : Double(totals.posteriorCorrectTokens) / Double(totals.posteriorCorrect)
        report.distilledMeanTokens = report.distilled > 0 ? Double(totals.distilledTokens) / Double(report.distilled) : 0
        report.priorCorrectMeanTokens = totals.priorCorrectCounted == 0 ? 0 : Double(totals.priorCorrectTokens) / Double(totals.priorCorrectCounted)
        report.gradientNorm = clipGradientNorm(backprop.gradients, count: adapter.count, maxNorm: settings.maxGradNorm)
        report.learningRate = LearningRateSchedule(peak: settings.learningRate, warmup: settings.warmupSteps, total: settings.steps,
                                                   minRatio: 1).rate(at: state.step)
        optimizer.update(adapter.parameters, backprop.gradients, lr: report.learningRate)
        state.step += 1
        report.step = state.step
        state.losses.append(report.distillationLoss + report.posteriorLoss + report.policyLoss)
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// The posterior and prior samples of problems `mine` (indices into the step's prompts), with the tokens generated
    /// and the time it took: both views in one batch, the posterior's sequences without the adapter when the
    /// posterior model is the base (a batch twice as wide reads the weights once for both views).
    func rollouts(_ mine: [Int], priorPrompts: [[Int]], posteriorPrompts: [[Int]], onStep: ((Int, Int) -> Void)? = nil) throws
        -> (posterior: [Int: [BatchCompletion]], prior: [Int: [BatchCompletion]], tokens: Int, seconds: Double) {
        let posteriorCount = settings.method == .vpgea ? settings.posteriorCount : 0, priorCount = settings.priorCount
        // One batch for both views; with `posteriorModel == .base` the posterior's sequences skip the adapter.
        let posteriorAdapted = settings.posteriorModel == .shared
        let all = mine.flatMap {
            requests(posteriorPrompts[$0], count: posteriorCount, salt: UInt64(2 * $0 + 1), adapter: posteriorAdapted)
                + requests(priorPrompts[$0], count: priorCount, salt: UInt64(2 * $0))
        }
        let outputs = try generator.generate(all, onStep: onStep)   // [mine.count · (posteriorCount + priorCount)]
        var posterior: [Int: [BatchCompletion]] = [:], prior: [Int: [BatchCompletion]] = [:]
        for (i, k) in mine.enumerated() {
            let group = outputs[i * (posteriorCount + priorCount)..<(i + 1) * (posteriorCount + priorCount)]
            posterior[k] = Array(group.prefix(posteriorCount))
            prior[k] = Array(group.suffix(priorCount))
        }
        return (posterior, prior, generator.generatedTokens, generator.generationSeconds)
    }

    /// Gate, cross-view check and distillation for one problem's posterior group; returns the distilled tokens.
    private func vpgeaLoss(problem p: Problem, posterior group: [ScoredCompletion], priorPrompt: [Int], posteriorPrompt: [Int],
                           lengthBar: LengthBar?, scale: Float, report: inout VPGEAStepReport) throws -> Int {
        let advantages = groupAdvantages(group.map(\.utility))
        var distilledTokens = 0
        for (z, a) in zip(group, advantages) {
            let gate = (z.correct ? 1 : 0) * max(a, 0)
            var passed = false
            if gate > 0 {
                report.candidates += 1
                if let reason = try crossViewRejection(z, problem: p, priorPrompt: priorPrompt, lengthBar: lengthBar) {
                    switch reason {
                    case .length: report.removedLength += 1
                    case .leak: report.removedLeak += 1
                    case .empty: report.removedEmpty += 1
                    case .answerFirst: report.removedAnswerFirst += 1
                    case .plausibility: report.removedPlausibility += 1
                    case .support: report.removedSupport += 1
                    }
                } else {
                    passed = true
                    report.distilled += 1
                    distilledTokens += z.length
                    let weight = gate * scale / Float(z.length)
                    switch settings.mode {
                    case .sequence:
                        report.distillationLoss += try weightedNLL(priorPrompt, z.tokens, weight: weight, afterScoring: true)
                    case .token:
                        report.distillationLoss += try tokenKL(priorPrompt: priorPrompt, posteriorPrompt: posteriorPrompt, z.tokens, weight: weight)
                    }
                }
            }
            // Posterior term: on-policy gradient on the posterior view (by default only on paths that passed).
            if settings.posteriorWeight > 0, a != 0, !z.tokens.isEmpty, passed || !settings.posteriorTermOnPassing {
                report.posteriorLoss += try weightedNLL(posteriorPrompt, z.tokens,
                                                        weight: settings.posteriorWeight * a * scale / Float(z.length))
            }
        }
        return distilledTokens
    }

    enum Rejection { case length, leak, empty, answerFirst, plausibility, support }

    /// The length a distilled path must beat: shorter than the prior view's correct paths' mean, or not longer than
    /// the posterior view's correct paths' mean where the prior has none (nil: no correct path).
    struct LengthBar: Equatable {
        var mean: Double
        var inclusive: Bool
        func admits(_ length: Int) -> Bool { inclusive ? Double(length) <= mean : Double(length) < mean }
    }

    static func lengthBar(prior: [Int], posterior: [Int]) -> LengthBar? {
        func mean(_ x: [Int]) -> Double { Double(x.reduce(0, +)) / Double(x.count) }
        if !prior.isEmpty { return LengthBar(mean: mean(prior), inclusive: false) }
        return posterior.isEmpty ? nil : LengthBar(mean: mean(posterior), inclusive: true)
    }

    /// Why a correct, better-than-average posterior path is not distilled, or nil when it passes: not shorter than
    /// the bar, a leaked hint, no reasoning, the answer stated first, implausible under the prior, or reasoning that
    /// does not make the answer more likely. The cheap text tests come first.
    func crossViewRejection(_ z: ScoredCompletion, problem: Problem, priorPrompt: [Int], lengthBar: LengthBar? = nil) throws
        -> Rejection? {
        if settings.lengthGate, let bar = lengthBar, !bar.admits(z.length) { return .length }
        if settings.leakPhrases.contains(where: { Self.containsWords(z.text, $0) }) { return .leak }
        let reasoningText = Self.reasoning(of: z.text)
        let reasoning = bundle.tokenizer.encode(reasoningText, parseSpecial: false, addBOS: false)
        if reasoning.count < settings.minReasoningTokens { return .empty }
        if settings.answerFirstWindow > 0,
           Self.statesAnswerFirst(reasoningText, answer: problem.answer, question: problem.question, window: settings.answerFirstWindow) {
            return .answerFirst
        }
        // Support: the answer given the path's reasoning, against the answer given no reasoning. Scored before
        // plausibility (which is still reported first) so that the plausibility pass over the path is the last one,
        // and the distillation of a path that passes starts from its activations.
        let (withContext, withoutContext, target) = supportSequences(reasoning: reasoningText, answer: problem.answer)
        let withReasoning = try meanLogProb(priorPrompt + withContext, target)
        let without = try meanLogProbWithoutReasoning(priorPrompt + withoutContext, target)
        if try meanLogProb(priorPrompt, z.tokens) < Double(settings.plausibilityThreshold) { return .plausibility }
        return withReasoning - without < Double(settings.supportThreshold) ? .support : nil
    }

    /// What support compares: the answer's tokens after the reasoning and the template's text before the answer,
    /// against the same without the reasoning (with `supportOnAnswerTokens` off: the whole template is the target).
    func supportSequences(reasoning: String, answer: String) -> (with: [Int], without: [Int], target: [Int]) {
        func encode(_ text: String) -> [Int] { bundle.tokenizer.encode(text, parseSpecial: false, addBOS: false) }
        let template = settings.answerTemplate
        guard settings.supportOnAnswerTokens, let slot = template.range(of: "{answer}") else {
            let whole = encode(template.replacingOccurrences(of: "{answer}", with: answer))
            return (encode(reasoning), [], whole)
        }
        let lead = String(template[..<slot.lowerBound])
        return (encode(reasoning + lead), encode(lead), encode(answer))
    }

    /// Whether `phrase` occurs in `text` as whole words (case-insensitive): not inside a longer word.
    static func containsWords(_ text: String, _ phrase: String) -> Bool {
        matches(text, "(?<![\\p{L}\\p{N}])" + NSRegularExpression.escapedPattern(for: phrase) + "(?![\\p{L}\\p{N}])",
                caseInsensitive: true)
    }

    /// Whether the reasoning states the answer (as a whole number or word) within its first `window` of characters:
    /// a path that writes the hinted answer first and justifies it afterwards. Undecidable, and so false, when the
    /// question itself contains the answer.
    static func statesAnswerFirst(_ reasoning: String, answer: String, question: String, window: Float) -> Bool {
        let a = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !a.isEmpty, !containsAnswer(question, a) else { return false }
        let limit = Int(Float(reasoning.count) * window)
        let head = String(reasoning.prefix(max(limit, 1)))
        return containsAnswer(head, a)
    }

    /// `answer` in `text` not as part of a longer number or word (thousands separators ignored: 1,001 matches 1001;
    /// 42 is not in 142, 42.5 or x42).
    static func containsAnswer(_ text: String, _ answer: String) -> Bool {
        let plain = text.replacingOccurrences(of: ",", with: ""), a = answer.replacingOccurrences(of: ",", with: "")
        return matches(plain, "(?<![\\p{L}\\p{N}.])" + NSRegularExpression.escapedPattern(for: a) + "(?![\\p{L}\\p{N}]|\\.\\p{N})",
                       caseInsensitive: false)
    }

    static func matches(_ text: String, _ pattern: String, caseInsensitive: Bool) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : []) else {
            return false
        }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// The completion's text before its final answer (the last `\boxed`, else all of it).
    static func reasoning(of text: String) -> String {
        guard let r = text.range(of: "\\boxed", options: .backwards) else { return text }
        return String(text[..<r.lowerBound])
    }

    /// `prompt + continuation` (cut to the context) with the cross-entropy on the continuation's tokens.
    func continuationLoss(_ prompt: [Int], _ continuation: [Int], weight: Float? = nil) -> CrossEntropyLoss {
        let tokens = Array((prompt + continuation).prefix(backprop.maxTokens))
        return CrossEntropyLoss(tokens: tokens, trained: tokens.indices.map { $0 >= prompt.count }, weight: weight)
    }

    /// Mean log-probability of `continuation` after `prompt` (no gradient).
    func meanLogProb(_ prompt: [Int], _ continuation: [Int]) throws -> Double {
        guard !continuation.isEmpty else { return 0 }
        let loss = continuationLoss(prompt, continuation)
        return -(try backprop.loss(tokens: loss.tokens, loss: loss, exact: settings.exactScoring))
    }

    /// `meanLogProb` of the answer without reasoning, remembered for the rest of this optimiser step.
    func meanLogProbWithoutReasoning(_ prompt: [Int], _ target: [Int]) throws -> Double {
        if scoresWithoutReasoning.step != state.step { scoresWithoutReasoning = (state.step, [:]) }
        let key = prompt + [-1] + target   // (-1: no token id, so the split between the two is part of the key)
        if let known = scoresWithoutReasoning.scores[key] { return known }
        let score = try meanLogProb(prompt, target)
        scoresWithoutReasoning.scores[key] = score
        return score
    }

    /// Adds weight · Σ −log p(z_t) under the view `prompt` to the gradients; returns the loss. `afterScoring`: the
    /// last pass scored this path under this view (`crossViewRejection`), in this step, so the adapter is as it was.
    func weightedNLL(_ prompt: [Int], _ z: [Int], weight: Float, afterScoring: Bool = false) throws -> Double {
        let loss = continuationLoss(prompt, z, weight: weight)
        return try backprop.accumulate(tokens: loss.tokens, loss: loss, afterLossPass: afterScoring)
    }

    /// Adds weight · Σ_t KL(sg[q(·|x, y*, z<t)] ‖ π(·|x, z<t)) to the gradients; returns the loss.
    func tokenKL(priorPrompt: [Int], posteriorPrompt: [Int], _ z: [Int], weight: Float) throws -> Double {
        let count = min(z.count, backprop.maxTokens - max(priorPrompt.count, posteriorPrompt.count))
        guard count > 0 else { return 0 }
        let vocab = bundle.model.config.vocabularySize
        let teacherTokens = posteriorPrompt + z.prefix(count)
        let teacher = LogProbabilityCapture(positions: (0..<count).map { posteriorPrompt.count - 1 + $0 }, vocab: vocab)
        _ = try backprop.loss(tokens: teacherTokens, loss: teacher, exact: settings.exactScoring,
                              withAdapter: settings.posteriorModel == .shared)
        let studentTokens = priorPrompt + z.prefix(count)
        let loss = ForwardKLLoss(positions: (0..<count).map { priorPrompt.count - 1 + $0 }, teacher: teacher, weight: weight)
        return try backprop.accumulate(tokens: studentTokens, loss: loss)
    }

    /// (Rank 0 alone writes it.)
    public func saveCheckpoint(to path: String) throws {
        guard collective.isLeader else { return }
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try Checkpoint.save(to: path, adapter: adapter, optimizer: optimizer, state: state, settings: json)
    }
}

/// A step's additive counts, summed over the ranks before the report's means are taken.
struct StepTotals {
    var prior, priorCorrect, priorTokens, posterior, posteriorCorrect, posteriorTokens, posteriorCorrectTokens: Int
    var priorCorrectCounted, priorCorrectTokens, distilledTokens, rolloutTokens: Int
    var rolloutSeconds: Double

    /// Sums these and the report's own counts and losses over every rank.
    mutating func sum(over collective: any Collective, report: inout VPGEAStepReport) throws {
        let ints = [prior, priorCorrect, priorTokens, posterior, posteriorCorrect, posteriorTokens, posteriorCorrectTokens,
                    priorCorrectCounted, priorCorrectTokens, distilledTokens, rolloutTokens, report.candidates,
                    report.removedLength, report.removedLeak, report.removedEmpty, report.removedAnswerFirst,
                    report.removedPlausibility, report.removedSupport, report.distilled]
        let doubles = [rolloutSeconds, report.distillationLoss, report.posteriorLoss, report.policyLoss]
        let summed = try collective.sum(ints.map(Double.init) + doubles)
        let n = summed.prefix(ints.count).map { Int($0.rounded()) }, d = Array(summed.suffix(doubles.count))
        (prior, priorCorrect, priorTokens, posterior, posteriorCorrect, posteriorTokens, posteriorCorrectTokens) =
            (n[0], n[1], n[2], n[3], n[4], n[5], n[6])
        (priorCorrectCounted, priorCorrectTokens, distilledTokens, rolloutTokens) = (n[7], n[8], n[9], n[10])
        (report.candidates, report.removedLength, report.removedLeak, report.removedEmpty) = (n[11], n[12], n[13], n[14])
        (report.removedAnswerFirst, report.removedPlausibility, report.removedSupport, report.distilled) = (n[15], n[16], n[17], n[18])
        (rolloutSeconds, report.distillationLoss, report.posteriorLoss, report.policyLoss) = (d[0], d[1], d[2], d[3])
    }
}
