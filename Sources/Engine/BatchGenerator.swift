import Foundation
import Kernels
import Qwen2
import Sampling

extension Qwen2Model {
    /// Prompt pieces of at least this many tokens run the panel kernels on the types that have them.
    public static let minPanelPiece = 8

    /// Whether a prompt's numbers are the same however it is cut into pieces of at least `minPanelPiece` tokens
    /// (or reused from another sequence's cache): every layer matrix takes the panel kernels, whose result for a
    /// token does not depend on the other tokens of the product. Not so for F16 weights, or Q8_0 without VNNI,
    /// whose prompts go through sgemm.
    public var promptsIndependentOfBatch: Bool {
        weights.layerMatrixTypes.allSatisfy {
            MatMul.plan($0, tokens: Self.minPanelPiece, generationStep: false, exactActivations: false, path: .selected)
                == .integerPanels
        }
    }
}

/// One sequence to generate in a batch.
public struct BatchRequest: Sendable {
    public var prompt: [Int]
    public var sampling: SamplingParameters
    public var maxTokens: Int
    public init(prompt: [Int], sampling: SamplingParameters, maxTokens: Int) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
    }
}

/// What one sequence generated; the stop token, when there was one, is the last token.
public struct BatchCompletion: Sendable {
    public var tokens: [Int]
    public var stopReason: StopReason
}

/// Generates many sequences at once on a multi-sequence session: every step appends one token to each
/// unfinished sequence in one batch, so the weights are read once per step for all of them. A prompt that
/// shares a prefix with one already in the cache copies that prefix instead of computing it again, where that
/// changes no number (so each sequence gets the tokens it gets in any other wave).
public final class BatchGenerator {
    public let session: Qwen2Session
    public let stopTokens: Set<Int>
    /// Tokens generated and wall time of the last `generate` (prompts excluded).
    public private(set) var generatedTokens = 0
    public private(set) var generationSeconds = 0.0
    public private(set) var promptTokensComputed = 0

    public init(session: Qwen2Session, stopTokens: Set<Int>) {
        self.session = session
        self.stopTokens = stopTokens
    }

    /// Generates every request (in waves of `session.sequences`). `onStep(done, active)` is called after each
    /// batched step with the tokens generated so far.
    public func generate(_ requests: [BatchRequest], onStep: ((Int, Int) -> Void)? = nil) throws -> [BatchCompletion] {
        generatedTokens = 0
        generationSeconds = 0
        promptTokensComputed = 0
        var out: [BatchCompletion] = []
        var start = 0
        while start < requests.count {
            let wave = Array(requests[start..<min(start + session.sequences, requests.count)])
            out += try generateWave(wave, onStep: onStep)
            start += wave.count
        }
        return out
    }

    private func generateWave(_ requests: [BatchRequest], onStep: ((Int, Int) -> Void)?) throws -> [BatchCompletion] {
        let vocab = session.model.config.vocabularySize
        session.reset()
        var logits: [[Float]] = []
        var cached: [[Int]] = []
        let independent = session.model.promptsIndependentOfBatch
        // Prompts: re-use the longest prefix already computed for an earlier sequence of this wave.
        for (i, r) in requests.enumerated() {
            guard !r.prompt.isEmpty else { throw EngineError.template("an empty prompt") }
            guard r.prompt.count < session.contextSize else {
                throw EngineError.promptTooLong(tokens: r.prompt.count, context: session.contextSize)
            }
            // A copy must change no number, so that a sequence's tokens do not depend on the others of its wave: an
            // identical prompt's whole cache but its last token (decoded again, for the logits), or, where prompts
            // are independent of the batch, the shared start of another prompt followed by a panel-sized piece.
            var best = 0, source = -1
            if let same = cached.firstIndex(of: r.prompt) {
                (best, source) = (r.prompt.count - 1, same)
            } else if independent {
                for (j, c) in cached.enumerated() {
                    let common = min(zip(c, r.prompt).prefix { $0 == $1 }.count, r.prompt.count - Qwen2Model.minPanelPiece)
                    if common > best { (best, source) = (common, j) }
                }
            }
            if source >= 0, best > 0 { session.copyPrefix(from: source, to: i, count: best) } else { best = 0 }
            let rest = Array(r.prompt[best...])
            promptTokensComputed += rest.count
            logits.append(try session.decode(rest, logits: .last, sequence: i))
            cached.append(r.prompt)
        }
        var samplers = requests.map { Sampler($0.sampling) }
        var histories = requests.map(\.prompt)   // prompt + generated tokens, for the samplers' penalties
        var completions = requests.map { _ in BatchCompletion(tokens: [], stopReason: .maxTokens) }
        var active = Array(requests.indices)
        let clock = ContinuousClock(), begin = clock.now
        while !active.isEmpty {
            var steps: [(sequence: Int, token: Int)] = []
            for i in active {
                let token = samplers[i].sample(logits[i][0..<vocab], history: histories[i][...])
                completions[i].tokens.append(token)
                histories[i].append(token)
                generatedTokens += 1
                if stopTokens.contains(token) {
                    completions[i].stopReason = .endOfGeneration
                } else if completions[i].tokens.count >= requests[i].maxTokens {
                    completions[i].stopReason = .maxTokens
                } else if session.lengths[i] >= session.contextSize {
                    completions[i].stopReason = .contextFull
                } else {
                    steps.append((i, token))
                }
            }
            active = steps.map(\.sequence)
            if !steps.isEmpty {
                let rows = try session.decodeStep(steps)
                for (k, s) in steps.enumerated() { logits[s.sequence] = Array(rows[k * vocab..<(k + 1) * vocab]) }
            }
            onStep?(generatedTokens, active.count)
        }
        generationSeconds += (clock.now - begin).secondsValue
        return completions
    }
}
