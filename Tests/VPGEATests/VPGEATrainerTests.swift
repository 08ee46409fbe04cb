import Engine
import Foundation
import LoRA
import Qwen2
import Testing
import TestSupport
import Training
@testable import VPGEA

/// The VPG-EA step on the real 0.5B model with small settings (it needs a tokenizer and a chat template).
@Suite(.serialized) struct VPGEATrainerTests {
    static let problems = [
        Problem(id: "a", question: "What is 2+3?", answer: "5"),
        Problem(id: "b", question: "What is 10-4?", answer: "6"),
        Problem(id: "c", question: "What is 3*3?", answer: "9"),
    ]

    static func trainer(_ settings: VPGEASettings) throws -> VPGEATrainer {
        let bundle = try ModelBundle(path: try TestSupport.testModelPath())
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), model: bundle.model.config)
        adapter.initializePEFT(seed: 3)
        return try VPGEATrainer(bundle: bundle, adapter: adapter, optimizer: AdamW(count: adapter.count), state: TrainingState(seed: 1),
                                settings: settings, kind: .gsm8k, problems: problems, threads: 2)
    }

    /// The teacher's positions line up with the student's: the same view as teacher and student gives KL 0 and
    /// no gradient; the posterior view as teacher gives a positive KL.
    @Test func tokenKLAlignsTeacherAndStudent() throws {
        var settings = VPGEASettings()
        settings.maxTokens = 16
        let t = try Self.trainer(settings)
        // B ≠ 0 so the adapter is live in both views.
        for i in 0..<t.adapter.count { t.adapter.parameters[i] += 0.001 * Float(sin(Double(i))) }
        let views = Views(bundle: t.bundle, settings: settings)
        let prior = try views.prior(Self.problems[0]), posterior = try views.posterior(Self.problems[0])
        let z = t.bundle.tokenizer.encode("2 + 3 = 5, so the answer is \\boxed{5}.", parseSpecial: false, addBOS: false)
        t.backprop.zeroGradients()
        let same = try t.tokenKL(priorPrompt: prior, posteriorPrompt: prior, z, weight: 1)
        let norm = (0..<t.adapter.count).reduce(0.0) { $0 + Double(t.backprop.gradients[$1] * t.backprop.gradients[$1]) }.squareRoot()
        #expect(abs(same) < 1e-4, "KL of a view with itself: \(same)")
        #expect(norm < 1e-3, "gradient norm \(norm)")
        t.backprop.zeroGradients()
        let different = try t.tokenKL(priorPrompt: prior, posteriorPrompt: posterior, z, weight: 1)
        #expect(different > 1e-3)
        // Plausibility and support are finite log-probabilities.
        let plausibility = try t.meanLogProb(prior, z)
        #expect(plausibility < 0 && plausibility > -20)
    }

    /// The cross-view check rejects the three shortcut paths: no reasoning, the answer stated first, a leaked hint;
    /// and support is scored on the answer's own tokens.
    @Test func crossViewCheckRejectsShortcuts() throws {
        var settings = VPGEASettings()
        settings.maxTokens = 64
        let t = try Self.trainer(settings)
        let p = Self.problems[0], prior = try Views(bundle: t.bundle, settings: settings).prior(p)
        func path(_ text: String) -> ScoredCompletion {
            ScoredCompletion(tokens: t.bundle.tokenizer.encode(text, parseSpecial: false, addBOS: false), text: text,
                             correct: true, truncated: false, utility: 1)
        }
        #expect(try t.crossViewRejection(path("\\boxed{5}"), problem: p, priorPrompt: prior) == .empty)
        #expect(try t.crossViewRejection(path("5. To check: adding two and three, counting up from two by three steps, "
            + "gives the sum we want, so the result is \\boxed{5}"), problem: p, priorPrompt: prior) == .answerFirst)
        #expect(try t.crossViewRejection(path("As given in the hint, we add the numbers: two plus three makes five, "
            + "so \\boxed{5}"), problem: p, priorPrompt: prior) == .leak)
        let long = path("We add two and three: starting from two and counting three more gives five. \\boxed{5}")
        #expect(try t.crossViewRejection(long, problem: p, priorPrompt: prior,
                                         lengthBar: VPGEATrainer.LengthBar(mean: 5, inclusive: false)) == .length)
        let answer = t.bundle.tokenizer.encode("5", parseSpecial: false, addBOS: false)
        #expect(t.supportSequences(reasoning: "2+3=5", answer: "5").target == answer)
        var old = settings
        old.supportOnAnswerTokens = false
        #expect(try Self.trainer(old).supportSequences(reasoning: "2+3=5", answer: "5").target.count > answer.count)
    }

    /// The support test's score of the answer without reasoning is the same for every path of a problem, so it is
    /// computed once per optimiser step: the remembered score has the fresh one's bits (the forward pass is
    /// deterministic, also after a distillation's forward and backward), outlives an adapter change within the step (none happens there), and not a new step.
    @Test func supportScoreWithoutReasoningIsRememberedForOneStep() throws {
        var settings = VPGEASettings()
        settings.maxTokens = 16
        let t = try Self.trainer(settings)
        func move(_ size: Float) { for i in 0..<t.adapter.count { t.adapter.parameters[i] += size * Float(sin(Double(i))) } }
        move(0.001)   // B ≠ 0: the adapter is live
        let prior = try Views(bundle: t.bundle, settings: settings).prior(Self.problems[0])
        let (_, without, target) = t.supportSequences(reasoning: "2+3=5", answer: "5")
        let remembered = try t.meanLogProbWithoutReasoning(prior + without, target)
        // A distillation in between (as when an earlier path of the problem passed) leaves the forward pass as it was.
        let z = t.bundle.tokenizer.encode("2 + 3 = 5, so \\boxed{5}.", parseSpecial: false, addBOS: false)
        _ = try t.weightedNLL(prior, z, weight: 1)
        #expect(remembered == (try t.meanLogProb(prior + without, target)))
        move(0.05)
        let moved = try t.meanLogProb(prior + without, target)
        #expect(moved != remembered)
        #expect(try t.meanLogProbWithoutReasoning(prior + without, target) == remembered)
        t.state.step += 1
        #expect(try t.meanLogProbWithoutReasoning(prior + without, target) == moved)
    }

    /// The base posterior model: the posterior view's rollouts and the distillation's teacher ignore the adapter
    /// (the same with a live adapter as with an inert one), the prior's do not; the shared model's follow it.
    @Test(arguments: VPGEASettings.PosteriorModel.allCases)
    func posteriorModel(_ model: VPGEASettings.PosteriorModel) throws {
        var settings = VPGEASettings()
        settings.posteriorModel = model
        settings.maxTokens = 12
        settings.groupSize = 2
        settings.temperature = 1
        let inert = try Self.trainer(settings), live = try Self.trainer(settings)
        for i in 0..<live.adapter.count { live.adapter.parameters[i] += 0.05 * Float(sin(Double(i))) }
        let views = Views(bundle: live.bundle, settings: settings)
        let priorPrompts = try Self.problems.map(views.prior), posteriorPrompts = try Self.problems.map(views.posterior)
        let mine = Array(Self.problems.indices)
        let a = try inert.rollouts(mine, priorPrompts: priorPrompts, posteriorPrompts: posteriorPrompts)
        let b = try live.rollouts(mine, priorPrompts: priorPrompts, posteriorPrompts: posteriorPrompts)
        let samePosterior = mine.allSatisfy { a.posterior[$0]!.map(\.tokens) == b.posterior[$0]!.map(\.tokens) }
        let samePrior = mine.allSatisfy { a.prior[$0]!.map(\.tokens) == b.prior[$0]!.map(\.tokens) }
        #expect(mine.allSatisfy { b.posterior[$0]!.count == 2 && b.prior[$0]!.count == 2 })
        #expect(samePosterior == (model == .base))
        #expect(!samePrior)
        // The teacher: with the prior's own prompt as the posterior's, KL is 0 only when the teacher has the adapter.
        let z = live.bundle.tokenizer.encode("2 + 3 = 5, so the answer is \\boxed{5}.", parseSpecial: false, addBOS: false)
        live.backprop.zeroGradients()
        let kl = try live.tokenKL(priorPrompt: priorPrompts[0], posteriorPrompt: priorPrompts[0], z, weight: 1)
        #expect(model == .base ? kl > 1e-3 : abs(kl) < 1e-4, "KL \(kl)")
    }

    /// A posterior on the base alone cannot take the β term (it trains the posterior through the adapter).
    @Test func baseModelPosteriorRefusesBeta() throws {
        var settings = VPGEASettings()
        settings.posteriorModel = .base
        settings.posteriorWeight = 0.1
        #expect(throws: SettingsConflict.self) { try Self.trainer(settings) }
        settings.posteriorWeight = 0
        #expect(settings.conflict == nil)
    }

    /// Two steps of each method run, log what they did, and change the adapter.
    @Test(arguments: VPGEASettings.Method.allCases)
    func twoSteps(_ method: VPGEASettings.Method) throws {
        var settings = VPGEASettings()
        settings.method = method
        settings.posteriorModel = method == .vpgea ? .shared : .base   // (a knob the baselines, with no posterior, ignore)
        settings.problemsPerStep = 2
        settings.groupSize = 2
        settings.maxTokens = 32
        settings.steps = 2
        settings.learningRate = 1e-3
        settings.temperature = 1.0
        let t = try Self.trainer(settings)
        let before = Array(UnsafeBufferPointer(start: t.adapter.parameters, count: t.adapter.count))
        var reports: [VPGEAStepReport] = []
        while !t.finished { reports.append(try t.step()) }
        #expect(reports.map(\.step) == [1, 2])
        for r in reports {
            #expect(r.rolloutTokens > 0 && r.rolloutTokens <= (method == .vpgea ? 8 : 4) * 32)
            // Accuracy is a count of the step's 4 prior samples.
            #expect((r.priorAccuracy * 4).rounded() == r.priorAccuracy * 4 && r.priorMeanTokens > 0)
            let removed = r.removedLength + r.removedLeak + r.removedEmpty + r.removedAnswerFirst + r.removedPlausibility + r.removedSupport
            if method == .vpgea { #expect(removed + r.distilled == r.candidates) }
            #expect(r.distilled == 0 ? r.distilledMeanTokens == 0 : r.distilledMeanTokens > 0)
            if method != .vpgea { #expect(r.posteriorMeanTokens == 0) }
        }
        let moved = (0..<t.adapter.count).contains { t.adapter.parameters[$0] != before[$0] }
        // The adapter moves exactly when some loss had a signal (all utilities of a group tied: none).
        let signal = reports.contains { $0.policyLoss != 0 || $0.distillationLoss != 0 || $0.posteriorLoss != 0 || $0.distilled > 0 }
        #expect(moved == signal)
        print("\(method.rawValue): " + reports.map {
            String(format: "post %.2f/%.0f prior %.2f/%.0f cand %d distilled %d rollout %.1f tok/s", $0.posteriorAccuracy,
                   $0.posteriorMeanTokens, $0.priorAccuracy, $0.priorMeanTokens, $0.candidates, $0.distilled, $0.rolloutTokensPerSecond)
        }.joined(separator: " | "))
    }
}
