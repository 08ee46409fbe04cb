import Engine
import Foundation
import Qwen2
import Sampling
import Serving
import Synchronization
import TestSupport
import Testing

@Suite struct StopScannerTests {
    @Test func stopStringCutAcrossPiecesIsCaughtAndNeverShown() {
        var s = StopScanner(stops: ["\n\nQ:", "END"])
        var shown = ""
        var stopped = false
        for piece in ["The answer", " is 4.\n", "\nQ", ": next"] {
            let r = s.feed(piece)
            shown += r.text
            if r.stopped { stopped = true; break }
        }
        #expect(stopped && shown == "The answer is 4.")
    }

    @Test func earliestStopWinsAndHeldTextIsFlushed() {
        var s = StopScanner(stops: ["bb", "a"])
        #expect(s.feed("xxbba").text == "xx")
        var t = StopScanner(stops: ["STOP"])
        #expect(t.feed("go ST") == ("go ", false))
        #expect(t.flush() == "ST")
        var none = StopScanner(stops: [])
        #expect(none.feed("any text") == ("any text", false))
    }
}

/// The engine on the real test model: requests decoded together give the tokens each gets alone.
@Suite(.serialized) struct ServeEngineTests {
    static let bundle: ModelBundle? = try? ModelBundle(path: TestSupport.testModelPath())

    /// Collects one request's events.
    final class Collector: Sendable {
        private let state = Mutex<(text: String, finish: FinishReason?, failed: ServeError?, tokens: Int)>(("", nil, nil, 0))
        private let done = DispatchSemaphore(value: 0)
        func handle(_ e: ServeEvent) {
            switch e {
            case .text(let t, _): state.withLock { $0.text += t }
            case .finished(let r, _, let n): state.withLock { $0.finish = r; $0.tokens = n }; done.signal()
            case .failed(let f): state.withLock { $0.failed = f }; done.signal()
            }
        }
        func wait(seconds: Double = 300) -> Bool { done.wait(timeout: .now() + seconds) == .success }
        var result: (text: String, finish: FinishReason?, failed: ServeError?, tokens: Int) { state.withLock { $0 } }
    }

    static func prompt(_ bundle: ModelBundle, _ question: String) throws -> [Int] {
        try bundle.chatTokens([.dict(.init([("role", .string("user")), ("content", .string(question))]))]).ids
    }

    /// What `Generator` (vpgea-run's path) produces alone, greedy.
    static func alone(_ bundle: ModelBundle, _ prompt: [Int], maxTokens: Int) throws -> String {
        let session = Qwen2Session(model: bundle.model, contextSize: 512, maxBatch: 512, threads: 2)
        var text = ""
        _ = try Generator(bundle: bundle, session: session).generate(prompt: prompt, maxTokens: maxTokens, sampling: .greedy) { _, t in
            text += t
            return true
        }
        return text
    }

    @Test func requestsTogetherGetTheirTextAlone() throws {
        let bundle = try #require(Self.bundle, "the test model is missing: run Tools/test")
        let questions = ["What is 7 times 8?", "Name a prime number above 50.", "Write a haiku about rain.",
                         "What is 7 times 8? Explain.", "Spell 'cat' backwards.", "What is the capital of France?"]
        let prompts = try questions.map { try Self.prompt(bundle, $0) }
        let want = try prompts.map { try Self.alone(bundle, $0, maxTokens: 24) }
        // Two slots for six requests: they queue, join as others leave, and reuse the slots' cached prefixes.
        let engine = ServeEngine(bundle: bundle, slots: 2, contextSize: 512, threads: 2, promptChunk: 16)
        defer { engine.shutdown() }
        let collectors = prompts.map { _ in Collector() }
        for (p, c) in zip(prompts, collectors) {
            _ = try engine.submit(ServeRequest(prompt: p, maxTokens: 24)) { c.handle($0) }
        }
        for (k, c) in collectors.enumerated() {
            #expect(c.wait())
            let r = c.result
            #expect(r.failed == nil && r.finish != nil)
            #expect(r.text == want[k], "request \(k): \(r.text.debugDescription) against \(want[k].debugDescription) alone")
        }
        let metrics = engine.metrics.render(running: 0, slots: 2)
        #expect(metrics.contains("vpgea_requests_total 6"))
        // The chat template's start is shared: later requests found it in a slot's cache, where reusing it changes
        // no number (panel kernels on every layer matrix: not the test model's Q8_0 without VNNI).
        #expect(metrics.contains("vpgea_prompt_tokens_reused_total 0\n") == !engine.reusesPrefixes)
    }

    @Test func limitsStopsSeedsAndRefusals() throws {
        let bundle = try #require(Self.bundle, "the test model is missing: run Tools/test")
        let engine = ServeEngine(bundle: bundle, slots: 1, contextSize: 128, threads: 2, queueLimit: 2)
        defer { engine.shutdown(cancelRunning: true) }
        let prompt = try Self.prompt(bundle, "Count from 1 to 30, separated by commas.")
        func run(_ r: ServeRequest) throws -> (text: String, finish: FinishReason?, failed: ServeError?, tokens: Int) {
            let c = Collector()
            _ = try engine.submit(r) { c.handle($0) }
            #expect(c.wait())
            return c.result
        }
        let limited = try run(ServeRequest(prompt: prompt, maxTokens: 5))
        #expect(limited.finish == .length && limited.tokens == 5)
        // A stop string: the text ends before it.
        let full = try run(ServeRequest(prompt: prompt, maxTokens: 40))
        let cut = try #require(full.text.range(of: "5"))
        let stopped = try run(ServeRequest(prompt: prompt, maxTokens: 40, stop: ["5"]))
        #expect(stopped.finish == .stop && stopped.text == String(full.text[..<cut.lowerBound]))
        // Seeded sampling repeats; another seed (almost surely) differs somewhere in 40 tokens at temperature 1.5.
        let sampled = { (seed: UInt64) in
            var p = SamplingParameters.nucleus(temperature: 1.5, topP: 1, seed: seed)
            p.topK = 0
            return ServeRequest(prompt: prompt, sampling: p, maxTokens: 40)
        }
        let a = try run(sampled(1)), b = try run(sampled(1)), c = try run(sampled(2))
        #expect(a.text == b.text && a.text != c.text)
        // Refusals: too long for the context, an unknown adapter, an empty prompt.
        #expect(throws: ServeError.promptTooLong(tokens: 200, context: 128)) {
            try engine.submit(ServeRequest(prompt: Array(repeating: 100, count: 200), maxTokens: 1)) { _ in }
        }
        #expect(throws: ServeError.unknownAdapter("nope")) {
            try engine.submit(ServeRequest(prompt: prompt, maxTokens: 1, adapter: "nope")) { _ in }
        }
        #expect(throws: ServeError.emptyPrompt) { try engine.submit(ServeRequest(prompt: [], maxTokens: 1)) { _ in } }
    }

    @Test func cancelledRequestFreesItsSlotAndAFullQueueRefuses() throws {
        let bundle = try #require(Self.bundle, "the test model is missing: run Tools/test")
        let engine = ServeEngine(bundle: bundle, slots: 1, contextSize: 4096, threads: 2, queueLimit: 1)
        defer { engine.shutdown(cancelRunning: true) }
        let prompt = try Self.prompt(bundle, "Write a long story about a lighthouse keeper.")
        let long = Collector()
        let handle = try engine.submit(ServeRequest(prompt: prompt, maxTokens: 3000)) { long.handle($0) }
        // Wait until it runs (the queue is empty again), then fill the queue: one more is refused.
        let deadline = Date().addingTimeInterval(60)
        while engine.load.running == 0 && Date() < deadline { usleep(10_000) }
        let queued = Collector()
        _ = try engine.submit(ServeRequest(prompt: prompt, maxTokens: 3)) { queued.handle($0) }
        #expect(throws: ServeError.queueFull(limit: 1)) { try engine.submit(ServeRequest(prompt: prompt, maxTokens: 3)) { _ in } }
        handle.cancel()
        // The queued request gets the slot without waiting for 3,000 tokens.
        #expect(queued.wait(seconds: 60))
        #expect(queued.result.finish == .length && long.result.finish == nil)
    }
}
