import Foundation
import Tokenizers

/// Log-probabilities of tokens under the model: log-softmax of the raw logits (before temperature, penalties or
/// truncation), as OpenAI's API reports them.
public enum Logprobs {
    /// The chosen token's log-probability and the `top` most likely tokens' (best first; ties by lower id).
    public static func of(_ token: Int, in logits: ArraySlice<Float>, top: Int, tokenizer: Tokenizer) -> TokenLogprob {
        let base = logits.startIndex
        var maxLogit = -Float.infinity
        for v in logits where v > maxLogit { maxLogit = v }
        var sum = 0.0   // Double: 150k terms
        for v in logits { sum += Double(Foundation.exp(v - maxLogit)) }
        let logZ = maxLogit + Float(Foundation.log(sum))
        var best: [(Int, Float)] = []   // [≤ top] (id, logit), best first
        if top > 0 {
            for i in logits.indices {
                let v = logits[i]
                if best.count == top, let last = best.last, v <= last.1 { continue }
                let at = best.firstIndex { v > $0.1 } ?? best.count
                best.insert((i - base, v), at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return TokenLogprob(token: token, text: text(token, tokenizer), logprob: logits[base + token] - logZ,
                            top: best.map { ($0.0, text($0.0, tokenizer), $0.1 - logZ) })
    }

    /// A token's text (its bytes; a piece of a multi-byte character shows as U+FFFD, as in OpenAI's `token`).
    static func text(_ token: Int, _ tokenizer: Tokenizer) -> String {
        String(decoding: tokenizer.bytes(of: token), as: UTF8.self)
    }
}
