import ChatTemplate
import Engine
import Foundation
import Qwen2
import Sampling
import TestSupport
import Testing

/// Generation on the real test model.
@Suite(.serialized) struct GeneratorTests {
    static let bundle = try! ModelBundle(path: try! TestSupport.testModelPath())

    func generator(context: Int = 1024) -> Generator {
        Generator(bundle: Self.bundle, session: Qwen2Session(model: Self.bundle.model, contextSize: context, maxBatch: 256,
                                                             threads: ProcessInfo.processInfo.activeProcessorCount))
    }

    func reply(_ g: Generator, _ messages: [JinjaValue], max: Int = 12) throws -> (String, GenerationStats) {
        var text = ""
        let stats = try g.generate(prompt: try Self.bundle.chatTokens(messages).ids, maxTokens: max, sampling: .greedy) { _, t in
            text += t
            return true
        }
        return (text, stats)
    }

    @Test func answersAndStopsAtEndOfTurn() throws {
        let (text, stats) = try reply(generator(), [ChatTemplate.message("user", "What is the capital of France? One word.")], max: 16)
        #expect(text.contains("Paris"))
        #expect(stats.stopReason == .endOfGeneration)
    }

    /// A second turn re-uses the cached first turn and gives exactly what a fresh session gives.
    @Test func cachedPrefixGivesTheSameAnswer() throws {
        let g = generator()
        var messages = [ChatTemplate.message("user", "Name a prime number greater than 10.")]
        let (first, _) = try reply(g, messages)
        messages += [ChatTemplate.message("assistant", first), ChatTemplate.message("user", "And one greater than 100?")]
        let (second, stats) = try reply(g, messages)
        let fullPrompt = try Self.bundle.chatTokens(messages).ids.count
        #expect(stats.promptTokens < fullPrompt / 2, "the first turn should come from the cache")
        let (fresh, _) = try reply(generator(), messages)
        #expect(second == fresh)
    }

    @Test func aFullContextIsReportedNotCrashed() throws {
        let g = generator(context: 64)
        let long = String(repeating: "word ", count: 200)
        #expect(throws: EngineError.self) { try reply(g, [ChatTemplate.message("user", long)]) }
        let (_, stats) = try reply(g, [ChatTemplate.message("user", "Count from 1 to 100, one per line.")], max: 200)
        #expect(stats.stopReason == .contextFull)
    }
}
