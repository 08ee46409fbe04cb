import Foundation
import Qwen2

/// Perplexity as llama.cpp's `llama-perplexity` measures it: the tokens are cut into chunks of `contextSize`;
/// each chunk is decoded from an empty cache and the second half of its positions is scored.
public struct Perplexity {
    public struct Result: Sendable {
        public let perplexity: Double
        /// llama.cpp's "±": the standard error of the mean NLL, times the perplexity.
        public let uncertainty: Double
        public let chunks: Int
        public let scored: Int
        /// Running perplexity after each chunk.
        public let perChunk: [Double]
    }

    public static func run(session: Qwen2Session, tokens: [Int], contextSize: Int, bos: Int? = nil,
                           maxChunks: Int? = nil, progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> Result {
        let chunks = min(tokens.count / contextSize, maxChunks ?? .max)
        let first = contextSize / 2
        let vocab = session.model.config.vocabularySize
        var nll = 0.0, nll2 = 0.0, count = 0
        var perChunk: [Double] = []
        for chunk in 0..<chunks {
            var ids = Array(tokens[chunk * contextSize..<(chunk + 1) * contextSize])
            if let bos { ids[0] = bos }
            session.reset()
            let logits = try session.decode(ids, logits: .from(first))
            // Row r holds the logits at position first + r, which predict token first + r + 1.
            for r in 0..<(contextSize - first - 1) {
                let row = logits[(r * vocab)..<((r + 1) * vocab)]
                let value = LogitStats.logSumExp(row) - Double(row[row.startIndex + ids[first + r + 1]])
                nll += value
                nll2 += value * value
                count += 1
            }
            perChunk.append(exp(nll / Double(count)))
            progress(chunk + 1, chunks, perChunk.last!)
        }
        let mean = nll / Double(max(count, 1))
        let variance = nll2 / Double(max(count, 1)) - mean * mean
        let ppl = exp(mean)
        let error = variance > 0 && count > 1 ? (variance / Double(count - 1)).squareRoot() * ppl : 0
        return Result(perplexity: ppl, uncertainty: error, chunks: chunks, scored: count, perChunk: perChunk)
    }
}
