/// Every choice of the method (Sources/VPGEA/METHOD.md) as a knob, with that document's defaults.
/// Choices marked "ours" there are this project's, not the paper's.
public struct VPGEASettings: Codable, Sendable, Equatable {
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// Dual-stream rollouts, cross-view filter, variational distillation into the prior.
        case vpgea
        /// Length-penalised GRPO on prior samples (baseline).
        case grpoLength = "grpo-length"
        /// Fine-tune on the shortest correct prior sample (baseline).
        case shortestSFT = "shortest-sft"
    }
    public enum DistillationMode: String, Codable, Sendable, CaseIterable {
        /// Full-vocabulary forward KL against the stop-gradient posterior view, per token.
        case token
        /// Weighted NLL of the kept paths under the prior view.
        case sequence
    }

    public enum PosteriorModel: String, Codable, Sendable, CaseIterable {
        /// The posterior view runs on the base with the shared adapter (the method's two streams of one network).
        case shared
        /// The posterior view runs on the frozen base alone: its rollouts and the distillation's teacher do not move
        /// as the prior learns. With a shared adapter, the prior's shortening shortens the posterior, whose paths
        /// then shorten the prior further (the slide of EXPERIMENTS.md's powered run); ours.
        case base
    }

    public var method = Method.vpgea
    public var mode = DistillationMode.token
    /// Problems per step (B) and samples per view and problem (G).
    public var problemsPerStep = 4
    public var groupSize = 4
    /// The rollout budget per problem, split between the views (nil: G each); ours.
    public var posteriorSamples: Int? = nil
    public var priorSamples: Int? = nil
    public var temperature: Float = 0.8
    public var topP: Float = 0.95
    /// L_max: the generation limit; a completion cut there is wrong.
    public var maxTokens = 512
    /// λ in U(z) = c(z) − λ·|z|/L_max.
    public var lengthPenalty: Float = 0.5
    /// δ: least support (mean log-probability gain of the answer given the reasoning); ours.
    public var supportThreshold: Float = 0
    /// Support is scored on the answer's own tokens (the method's definition); false: on the whole answer template,
    /// as before (a template the prior finds likely anyway hid the answer's part); ours.
    public var supportOnAnswerTokens = true
    /// Least reasoning (tokens before the final answer) a distilled path has: shorter paths carry no derivation; ours.
    public var minReasoningTokens = 8
    /// A path whose reasoning states the reference answer within this first fraction of its characters is rejected
    /// as answer-first (skipped when the question itself contains the answer; 0: off); ours.
    public var answerFirstWindow: Float = 0.25
    /// Distil only paths shorter than the mean length of the prior view's correct paths of the same problem (not
    /// longer than the posterior view's correct mean where the prior has none); ours.
    public var lengthGate = true
    /// τ: least mean per-token log-probability of the path under the prior view; ours.
    public var plausibilityThreshold: Float = -2.5
    /// Phrases that give away the hint, matched as whole words (case-insensitive); ours.
    public var leakPhrases = ["given answer", "we are told the answer", "the answer was given", "verified final answer",
                              "the answer is given", "as given", "the provided answer", "hint"]
    /// β: weight of the posterior policy-gradient term (0: off). Under Adam a small β is not small: in a step with
    /// nothing distilled it alone moves the adapter at the full learning rate; so off by default.
    public var posteriorWeight: Float = 0
    /// The β term only on paths that pass the cross-view check (false: on every path with an advantage); ours.
    public var posteriorTermOnPassing = true
    /// What network the posterior view runs on; ours.
    public var posteriorModel = PosteriorModel.shared
    /// Prior-view instruction and posterior-view hint ({answer} and {solution} are replaced); the hint is ours.
    public var instruction = "Please reason step by step, and put your final answer within \\boxed{}."
    public var hint = "The verified final answer is {answer}. Write the shortest complete reasoning that derives it "
        + "from the problem statement, and do not mention that the answer was given."
    /// The passes that only score (support, plausibility, the posterior teacher's distribution) in exact products
    /// even when training's products are integers; false: in the training products, as the rollouts' own logits
    /// are (those passes took most of a step's non-rollout time in exact products); ours.
    public var exactScoring = false
    /// How the answer is phrased when scoring support (ours).
    public var answerTemplate = "\n\nThe final answer is $\\boxed{{answer}}$."
    public var learningRate: Float = 1e-4
    public var warmupSteps = 0
    public var steps = 20
    public var maxGradNorm: Float = 1
    public var weightDecay: Float = 0
    public var seed: UInt64 = 0
    public var checkpointEvery = 5

    public init() {}

    /// Samples per problem of each view.
    public var posteriorCount: Int { posteriorSamples ?? groupSize }
    public var priorCount: Int { priorSamples ?? groupSize }

    /// A combination of knobs that cannot work, described; nil when the settings are usable.
    public var conflict: String? {
        if posteriorModel == .base, posteriorWeight > 0 {
            return "the β term trains the posterior view through the adapter, which a posterior on the base alone does not use"
        }
        return nil
    }

    /// Rollouts per problem: both views for VPG-EA, the prior's for the baselines.
    public var rolloutsPerProblem: Int { method == .vpgea ? posteriorCount + priorCount : priorCount }
}

/// Settings whose knobs contradict each other (`VPGEASettings.conflict`).
public struct SettingsConflict: Error, CustomStringConvertible {
    public let description: String
}
