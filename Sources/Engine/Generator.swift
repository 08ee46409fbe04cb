import Foundation
import Qwen2
import Sampling
import Tokenizers

/// Why a generation ended.
public enum StopReason: String, Sendable {
    case endOfGeneration = "end of generation"
    case maxTokens = "token limit"
    case cancelled
    case contextFull = "context full"
}

/// Timings of one generation, llama.cpp style.
public struct GenerationStats: Sendable {
    public var promptTokens = 0
    public var promptSeconds = 0.0
    public var generatedTokens = 0
    public var generationSeconds = 0.0
    public var stopReason = StopReason.maxTokens

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0 }
}

/// Runs the generation loop on a session: decode the new prompt tokens, then sample one token at a time.
/// The session's cache holds `cached`; a prompt sharing a prefix with it only decodes what differs.
public final class Generator {
    public let bundle: ModelBundle
    public let session: Qwen2Session
    /// Tokens whose keys and values are in the session's cache, in order.
    public private(set) var cached: [Int] = []

    public init(bundle: ModelBundle, session: Qwen2Session) {
        self.bundle = bundle
        self.session = session
    }

    public func reset() {
        session.reset()
        cached = []
    }

    /// Generates after `prompt`. `onToken(id, text)` receives each token with its complete text (UTF-8 is never
    /// split) and returns false to stop. `cancelled` is polled between tokens.
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingParameters,
                         cancelled: () -> Bool = { false },
                         onToken: (Int, String) -> Bool) throws -> GenerationStats {
        guard !prompt.isEmpty else { throw EngineError.template("the prompt is empty") }
        guard prompt.count < session.contextSize else {
            throw EngineError.promptTooLong(tokens: prompt.count, context: session.contextSize)
        }
        var stats = GenerationStats()
        // Re-use the cached prefix; decode the rest (at least one token, for fresh logits).
        var common = zip(cached, prompt).prefix { $0 == $1 }.count
        if common == prompt.count { common -= 1 }
        session.truncate(to: common)
        cached = Array(prompt[..<common])
        let clock = ContinuousClock()
        var start = clock.now
        var logits = try session.decode(Array(prompt[common...]), logits: .last)
        cached = prompt
        stats.promptTokens = prompt.count - common
        stats.promptSeconds = (clock.now - start).secondsValue

        var sampler = Sampler(sampling)
        var decoder = StreamingDecoder(tokenizer: bundle.tokenizer)
        var history = prompt
        start = clock.now
        while true {
            if stats.generatedTokens >= maxTokens { stats.stopReason = .maxTokens; break }
            if cancelled() { stats.stopReason = .cancelled; break }
            let token = sampler.sample(logits[...], history: history[...])
            history.append(token)
            stats.generatedTokens += 1
            if bundle.tokenizer.endOfGeneration.contains(token) {
                _ = onToken(token, decoder.flush())
                stats.stopReason = .endOfGeneration
                // The end token belongs in the cache, so the next turn's prompt prefix matches.
                if session.position < session.contextSize {
                    _ = try session.decode([token], logits: .none)
                    cached.append(token)
                }
                break
            }
            if !onToken(token, decoder.append(token)) { stats.stopReason = .cancelled; break }
            if session.position >= session.contextSize { stats.stopReason = .contextFull; break }
            logits = try session.decode([token], logits: .last)
            cached.append(token)
        }
        stats.generationSeconds = (clock.now - start).secondsValue
        return stats
    }
}

extension Duration {
    /// The duration in seconds.
    public var secondsValue: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
