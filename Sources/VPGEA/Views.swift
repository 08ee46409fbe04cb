import ChatTemplate
import Engine

/// The two views of one network: the prior sees the question, the posterior also the reference answer.
public struct Views {
    public let bundle: ModelBundle
    public let settings: VPGEASettings

    public init(bundle: ModelBundle, settings: VPGEASettings) {
        self.bundle = bundle
        self.settings = settings
    }

    /// π(z | x): the chat prompt with the question and the instruction.
    public func prior(_ p: Problem) throws -> [Int] {
        try bundle.chatTokens([ChatTemplate.message("user", p.question + "\n" + settings.instruction)]).ids
    }

    /// q(z | x, y*): the same plus the hint with the reference answer ({answer}) and, where the hint asks for it,
    /// the reference's worked solution ({solution}; the answer alone where the data set has none).
    public func posterior(_ p: Problem) throws -> [Int] {
        let hint = settings.hint.replacingOccurrences(of: "{answer}", with: p.answer)
            .replacingOccurrences(of: "{solution}", with: p.solution ?? p.answer)
        return try bundle.chatTokens([ChatTemplate.message("user", p.question + "\n" + settings.instruction + "\n" + hint)]).ids
    }
}

/// One sampled completion, scored.
public struct ScoredCompletion: Sendable {
    public var tokens: [Int]
    public var text: String
    public var correct: Bool
    public var truncated: Bool
    /// U(z) = c(z) − λ·|z|/L_max.
    public var utility: Float
    public var length: Int { tokens.count }
}

extension ScoredCompletion {
    init(_ c: BatchCompletion, problem: Problem, kind: BenchmarkKind, bundle: ModelBundle, settings: VPGEASettings) {
        tokens = c.tokens
        text = bundle.tokenizer.decode(c.tokens.filter { !bundle.tokenizer.endOfGeneration.contains($0) })
        truncated = c.stopReason != .endOfGeneration
        correct = !truncated && AnswerCheck.isCorrect(kind, completion: text, reference: problem.answer)
        utility = (correct ? 1 : 0) - settings.lengthPenalty * Float(c.tokens.count) / Float(max(settings.maxTokens, 1))
    }
}

/// Group-relative advantages: (U − mean) / (std + 1e-4) over one group.
public func groupAdvantages(_ utilities: [Float]) -> [Float] {
    guard !utilities.isEmpty else { return [] }
    let mean = utilities.reduce(0, +) / Float(utilities.count)
    let variance = utilities.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(utilities.count)
    return utilities.map { ($0 - mean) / (variance.squareRoot() + 1e-4) }
}
