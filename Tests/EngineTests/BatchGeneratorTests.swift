import Engine
import Foundation
import Qwen2
import Sampling
import TestSupport
import Testing

/// Batched generation against one sequence at a time: the same tokens, whatever the batch and prefix sharing.
@Suite struct BatchGeneratorTests {
    static func tiny() throws -> (Qwen2Model, URL) {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir.appendingPathComponent("tiny.gguf").path
        try TinyModel(seed: 21, ff: 64).write(to: path)
        return (try Qwen2Model(path: path), dir)
    }

    /// One sequence alone, greedy or seeded sampling, token by token (with `adapter` on the session, if any).
    static func alone(_ model: Qwen2Model, _ r: BatchRequest, stop: Set<Int>, adapter: (any ProjectionAdapter)? = nil) throws -> [Int] {
        let session = Qwen2Session(model: model, contextSize: 64, maxBatch: 64, threads: 1, exactActivations: true)
        session.adapter = adapter
        var sampler = Sampler(r.sampling)
        var logits = try session.decode(r.prompt, logits: .last)
        var out: [Int] = []
        while true {
            let token = sampler.sample(logits[...], history: (r.prompt + out)[...])
            out.append(token)
            if stop.contains(token) || out.count >= r.maxTokens { return out }
            logits = try session.decode([token], logits: .last)
        }
    }

    /// On two threads the slots' samplers draw in parallel: each must still draw from its own sequence's logits.
    @Test(arguments: [1, 2]) func batchedEqualsOneAtATime(threads: Int) throws {
        let (model, dir) = try Self.tiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        var greedy = SamplingParameters.greedy
        greedy.seed = 1
        var sampled = SamplingParameters()
        sampled.temperature = 1.2
        sampled.topK = 0
        sampled.minP = 0
        // Shared prefixes (1,2,3,…), an identical pair, different lengths and limits, sampling with seeds.
        var requests: [BatchRequest] = []
        for k in 0..<7 {
            var p = k % 2 == 0 ? greedy : sampled
            p.seed = UInt64(k)
            let prompt = k == 6 ? [1, 2, 3, 4, 5] : [1, 2, 3] + (0..<(k % 3 + 1)).map { ($0 * 7 + k) % 61 }
            requests.append(BatchRequest(prompt: prompt, sampling: p, maxTokens: 6 + 3 * k))
        }
        requests.append(requests[6])   // the same prompt twice: computed once, copied
        let stop: Set<Int> = [60]
        // Three slots for eight requests: a finished sequence's slot takes the next request mid-generation.
        let session = Qwen2Session(model: model, contextSize: 64, maxBatch: 64, threads: threads, exactActivations: true, sequences: 3)
        let generator = BatchGenerator(session: session, stopTokens: stop)
        var steps = 0, finished: [Int] = [], handed: [Int: [Int]] = [:]   // handed: request → its tokens when it finished
        let batched = try generator.generate(requests, onStep: { _, _ in steps += 1 },
                                             onCompletion: { count, request, completion in
                                                 finished.append(count)
                                                 handed[request] = completion.tokens
                                             })
        #expect(finished == Array(1...requests.count))
        #expect(handed == Dictionary(uniqueKeysWithValues: batched.map(\.tokens).enumerated().map { ($0.offset, $0.element) }))
        for (r, c) in zip(requests, batched) {
            let expected = try Self.alone(model, r, stop: stop)
            #expect(c.tokens == expected)
            #expect(c.stopReason == (stop.contains(expected.last!) ? .endOfGeneration : .maxTokens))
        }
        #expect(generator.generatedTokens == batched.map(\.tokens.count).reduce(0, +))
        // Continuous: fewer batched steps than waves of three, each as long as its longest sequence, would take.
        let lengths = batched.map(\.tokens.count)
        let waveSteps = stride(from: 0, to: lengths.count, by: 3).map { lengths[$0..<min($0 + 3, lengths.count)].max()! }.reduce(0, +)
        #expect(steps < waveSteps, "\(steps) steps; waves: \(waveSteps)")
        // Shared prefixes were copied, not recomputed.
        #expect(generator.promptTokensComputed < requests.map(\.prompt.count).reduce(0, +))
    }

    /// A branch on every projection that moves the logits enough to change the tokens: y += 0.5·sin(3·x) of the
    /// input column with the output's index (mod the input width).
    final class Wobble: ProjectionAdapter, @unchecked Sendable {
        let inputs: [LoRATarget: Int]
        init(_ c: Qwen2Config) {
            inputs = [.q: c.embeddingLength, .k: c.embeddingLength, .v: c.embeddingLength, .o: c.headCount * c.headDim,
                      .gate: c.embeddingLength, .up: c.embeddingLength, .down: c.feedForwardLength]
        }
        func scratchPerRow(layer: Int, _ target: LoRATarget) -> Int? { 1 }
        func addBranch(layer: Int, _ target: LoRATarget, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldY: Int,
                       n: Int, scratch: UnsafeMutablePointer<Float>) {
            let width = inputs[target]!
            for r in 0..<n { for j in 0..<ldY { y[r * ldY + j] += 0.5 * sin(3 * x[r * width + j % width]) } }
        }
    }

    /// Requests with and without the session's adapter in one batch (the same prompts in both kinds, which must not
    /// share a cache): each gets the tokens it gets alone on a session with the adapter, or on one without.
    @Test func mixedAdapterBatchEqualsEachAlone() throws {
        let (model, dir) = try Self.tiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = Wobble(model.config)
        var requests: [BatchRequest] = []
        for k in 0..<8 {
            var p = SamplingParameters.greedy
            p.seed = UInt64(k)
            requests.append(BatchRequest(prompt: [1, 2, 3] + (0...(k / 2)).map { ($0 * 5 + k / 2) % 61 }, sampling: p,
                                         maxTokens: 8 + k, adapter: k % 2 == 0))
        }
        let session = Qwen2Session(model: model, contextSize: 64, maxBatch: 64, threads: 1, exactActivations: true, sequences: 3)
        session.adapter = adapter
        let stop: Set<Int> = [60]
        let batched = try BatchGenerator(session: session, stopTokens: stop).generate(requests)
        var differs = 0   // requests whose tokens with the adapter differ from those without: the test can tell
        for (r, c) in zip(requests, batched) {
            let with = try Self.alone(model, r, stop: stop, adapter: adapter), without = try Self.alone(model, r, stop: stop)
            #expect(c.tokens == (r.adapter ? with : without))
            if with != without { differs += 1 }
        }
        #expect(differs == requests.count)
        #expect(session.sequencesWithoutAdapter.isEmpty)
    }

    @Test func batchStepLogitsMatchSingleSequenceDecoding() throws {
        let (model, dir) = try Self.tiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = Qwen2Session(model: model, contextSize: 32, maxBatch: 32, threads: 2, exactActivations: true, sequences: 2)
        _ = try session.decode([5, 6, 7], sequence: 0)
        _ = try session.decode([9], sequence: 1)
        let rows = try session.decodeStep([(1, 10), (0, 8)])
        let v = model.config.vocabularySize
        let single = Qwen2Session(model: model, contextSize: 32, maxBatch: 32, threads: 2, exactActivations: true)
        let a = try single.decode([9, 10], logits: .last)
        single.reset()
        let b = try single.decode([5, 6, 7, 8], logits: .last)
        #expect(zip(rows[0..<v], a).map { abs($0 - $1) }.max()! < 1e-4)
        #expect(zip(rows[v..<2 * v], b).map { abs($0 - $1) }.max()! < 1e-4)
        #expect(session.lengths == [4, 2])
    }

    /// With 8-bit activations (the real 0.5B model: every weight quantized), a step of more sequences than the
    /// four-row kernels take at once gives every sequence exactly the logits of decoding its token alone:
    /// batched generation samples what generation one sequence at a time samples.
    @Test func quantizedStepOfSixEqualsEachAlone() throws {
        let model = try Qwen2Model(path: try TestSupport.testModelPath())
        let prompts = (0..<6).map { k in (0..<(5 + k)).map { ($0 * 13 + 7 * k) % 6100 } }
        let session = Qwen2Session(model: model, contextSize: 32, maxBatch: 32, threads: 2, exactActivations: false, sequences: 6)
        for (k, p) in prompts.enumerated() { _ = try session.decode(p, sequence: k) }
        let rows = try session.decodeStep((0..<6).map { ($0, 4000 + $0) })
        let v = model.config.vocabularySize
        let single = Qwen2Session(model: model, contextSize: 32, maxBatch: 32, threads: 2, exactActivations: false)
        for (k, p) in prompts.enumerated() {
            single.reset()
            _ = try single.decode(p)
            let alone = try single.decode([4000 + k])
            let differing = zip(rows[(k * v)..<((k + 1) * v)], alone).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "sequence \(k): \(differing) of \(v) logits differ")
        }
    }
}
