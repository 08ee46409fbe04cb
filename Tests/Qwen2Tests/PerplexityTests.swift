import Engine
import Foundation
import Qwen2
import TestSupport
import Testing

/// Perplexity on ../shared/ref/ppl-text.txt at -c 512 against llama.cpp's 4.7232 (0.5B): within 1%.
@Suite struct PerplexityTests {
    @Test func matchesLlamaCppOnTheTestModel() throws {
        let bundle = try ModelBundle(path: try TestSupport.testModelPath())
        let tokens = bundle.tokenizer.encode(References.pplText)
        #expect(tokens.count == 19_380, "llama.cpp counts 19,380 tokens")
        let session = Qwen2Session(model: bundle.model, contextSize: 512, maxBatch: 512,
                                   threads: ProcessInfo.processInfo.activeProcessorCount)
        let result = try Perplexity.run(session: session, tokens: tokens, contextSize: 512)
        print("0.5B perplexity \(result.perplexity) ± \(result.uncertainty) over \(result.chunks) chunks (llama.cpp 4.7232)")
        #expect(result.chunks == 37)
        #expect(abs(result.perplexity / 4.7232 - 1) < 0.01)
    }
}
