import CKernels
import Engine
import Foundation
import Kernels
import ModelStore
import Qwen2
import TestSupport
import Testing

/// The forward pass against llama.cpp (logits.json, greedy.json) and PyTorch fp32 (torch-logits-fp32.json).
/// The 0.5B model runs in CI; the 1.5B checks run when it has been fetched (`vpgea-fetch qwen2.5-coder-1.5b`).
@Suite(.serialized) struct ForwardReferenceTests {
    static let small = Catalog.testModel
    static let large = Catalog.model(named: "qwen2.5-coder-1.5b")!
    static var largePresent: Bool { References.path(of: large) != nil }

    /// `exact`: every product in f32 (no 8-bit activations), for comparisons that isolate one other rounding.
    static func session(_ model: CatalogModel, context: Int = 2048, cache: KVCacheType = .f16,
                        exact: Bool = false) throws -> Qwen2Session {
        let path = try #require(References.path(of: model), "\(model.name) is not fetched")
        return Qwen2Session(model: try Qwen2Model(path: path), contextSize: context, maxBatch: 512,
                            threads: ProcessInfo.processInfo.activeProcessorCount, exactActivations: exact,
                            cacheType: cache)
    }

    /// Top-1 where llama.cpp's margin exceeds 0.5, and |Δlogit| ≤ 1.0 over the top-20 entries both share.
    /// `skipFirstPosition`: on the 1.5B, llama.cpp's logits at position 0 are off by up to ~15 (its int8
    /// activations lose the model's outsized first-token activations); an exact float64 oracle checks that
    /// position instead (`firstTokenMatchesFloat64OracleOn1_5B`).
    static func compareWithLlamaCpp(_ model: CatalogModel, skipFirstPosition: Bool = false) throws {
        let session = try session(model)
        let vocab = session.model.config.vocabularySize
        var maxError: Float = 0, positions = 0, decisive = 0, agree = 0
        for prompt in References.logits.models[References.key(for: model)]!.prompts {
            session.reset()
            let logits = try session.decode(prompt.token_ids, logits: .all)
            for p in prompt.positions where !(skipFirstPosition && p.pos == 0) {
                let row = logits[(p.pos * vocab)..<((p.pos + 1) * vocab)]
                let ours = LogitStats.top(row, 20)
                let oursById = Dictionary(uniqueKeysWithValues: ours.map { ($0.id, $0.logit) })
                for e in p.top20 {
                    if let o = oursById[e.id] { maxError = max(maxError, abs(o - e.logit)) }
                }
                positions += 1
                if p.top20[0].logit - p.top20[1].logit > 0.5 {
                    decisive += 1
                    if ours[0].id == p.top20[0].id { agree += 1 } else {
                        Issue.record("\(prompt.name) pos \(p.pos): top-1 \(ours[0].id), llama.cpp \(p.top20[0].id)")
                    }
                }
            }
        }
        print("\(model.name) vs llama.cpp: \(positions) positions, max |Δlogit| on shared top-20 = \(maxError), "
            + "top-1 agrees at \(agree)/\(decisive) positions with margin > 0.5")
        #expect(maxError <= 1.0)
        #expect(agree == decisive)
    }

    @Test func logitsMatchLlamaCppOnTheTestModel() throws { try Self.compareWithLlamaCpp(Self.small) }

    @Test(.enabled(if: largePresent, "the 1.5B model is not fetched"))
    func logitsMatchLlamaCppOn1_5B() throws { try Self.compareWithLlamaCpp(Self.large, skipFirstPosition: true) }

    @Test(.enabled(if: largePresent, "the 1.5B model is not fetched"))
    func firstTokenMatchesFloat64OracleOn1_5B() throws {
        struct Oracle: Decodable { let token: Int; let top: [[Double]] }
        let oracle = try JSONDecoder().decode(Oracle.self, from: References.data("first-token-1.5b", "json"))
        // A one-token decode takes the generation path: f32 activations here, since 8-bit ones lose this
        // model's outsized first-token activations exactly as llama.cpp's do.
        let path = try #require(References.path(of: Self.large))
        let session = Qwen2Session(model: try Qwen2Model(path: path), contextSize: 16, maxBatch: 8,
                                   threads: ProcessInfo.processInfo.activeProcessorCount, exactActivations: true)
        let row = try session.decode([oracle.token], logits: .last)
        let ours = LogitStats.top(row[...], oracle.top.count)
        for (o, want) in zip(ours, oracle.top) {
            #expect(o.id == Int(want[0]))
            #expect(abs(Double(o.logit) - want[1]) < 1e-3)
        }
    }

    /// Token-by-token decoding (the generation kernels) on every instruction-set path this CPU has, against
    /// llama.cpp's logits for the same positions.
    @Test(arguments: KernelPath.allCases.filter(\.isSupported), [false, true])
    func tokenByTokenDecodingMatchesLlamaCpp(_ path: KernelPath, _ exact: Bool) throws {
        let file = try #require(References.path(of: Self.small))
        let session = Qwen2Session(model: try Qwen2Model(path: file), contextSize: 256, maxBatch: 64,
                                   threads: ProcessInfo.processInfo.activeProcessorCount, kernelPath: path,
                                   exactActivations: exact)
        var maxError: Float = 0
        for prompt in References.logits.models[References.key(for: Self.small)]!.prompts.prefix(2) {
            session.reset()
            for p in prompt.positions {
                let row = try session.decode([prompt.token_ids[p.pos]], logits: .last)
                let ours = LogitStats.top(row[...], 20)
                let byId = Dictionary(uniqueKeysWithValues: ours.map { ($0.id, $0.logit) })
                for e in p.top20 { if let o = byId[e.id] { maxError = max(maxError, abs(o - e.logit)) } }
                if p.top20[0].logit - p.top20[1].logit > 0.5 { #expect(ours[0].id == p.top20[0].id, "\(prompt.name) \(p.pos)") }
            }
        }
        print("token-by-token decoding, kernel path \(path), \(exact ? "f32" : "8-bit") activations: max |Δlogit| vs llama.cpp = \(maxError)")
        #expect(maxError <= 1.0)
    }

    /// The KV cache's storage type against the f32 cache on the reference prompts (the rounding of the stored
    /// keys and values is the only difference). f16 changes no top-1. q8_0 is lossy on Qwen2, whose keys have
    /// outlier channels that widen every 32-value block's step: llama.cpp's own q8_0 cache (flash attention, as
    /// it requires) moves the top-20 logits by up to 22.6 and changes the top-1 at 9 of these 127 positions.
    @Test(arguments: [KVCacheType.f16, .q8_0])
    func cacheTypeEffectOnLogits(_ cache: KVCacheType) throws {
        // Exact products: with 8-bit activations, a changed key or value also moves later activations across
        // quantization steps, which is not the cache's doing.
        let exact = try Self.session(Self.small, context: 256, cache: .f32, exact: true)
        let rounded = try Self.session(Self.small, context: 256, cache: cache, exact: true)
        #expect(rounded.cacheType == cache)
        let vocab = exact.model.config.vocabularySize
        var maxError: Float = 0, top1 = 0, positions = 0
        for prompt in References.logits.models[References.key(for: Self.small)]!.prompts {
            exact.reset()
            rounded.reset()
            let a = try exact.decode(prompt.token_ids, logits: .all), b = try rounded.decode(prompt.token_ids, logits: .all)
            for p in 0..<prompt.token_ids.count {
                let ra = a[(p * vocab)..<((p + 1) * vocab)], rb = b[(p * vocab)..<((p + 1) * vocab)]
                for e in LogitStats.top(ra, 20) { maxError = max(maxError, abs(rb[rb.startIndex + e.id] - e.logit)) }
                if LogitStats.top(ra, 1)[0].id == LogitStats.top(rb, 1)[0].id { top1 += 1 }
                positions += 1
            }
        }
        print("KV cache \(cache.rawValue) vs f32: max |Δlogit| on the top-20 = \(maxError), top-1 same at \(top1)/\(positions)")
        if cache == .f16 {
            #expect(maxError < 0.5)
            #expect(top1 == positions)
        } else {
            #expect(top1 * 10 >= positions * 8)
        }
    }

    @Test func logitsMatchPyTorchFP32() throws {
        let session = try Self.session(Self.small, cache: .f32, exact: true)   // exact math against an fp32 oracle
        let vocab = session.model.config.vocabularySize
        var maxError: Float = 0, maxLSE = 0.0
        for sequence in References.torch.sequences {
            session.reset()
            let logits = try session.decode(sequence.ids, logits: .all)
            for p in sequence.positions {
                let row = logits[(p.pos * vocab)..<((p.pos + 1) * vocab)]
                for (id, want) in zip(p.top_ids, p.top_logits) {
                    maxError = max(maxError, abs(row[row.startIndex + id] - want))
                }
                maxLSE = max(maxLSE, abs(LogitStats.logSumExp(row) - p.logsumexp))
            }
        }
        print("0.5B vs PyTorch fp32: max |Δlogit| on its top-20 = \(maxError), max |Δlogsumexp| = \(maxLSE)")
        #expect(maxError < 0.05)
        #expect(maxLSE < 0.05)
    }

    /// Teacher forcing llama.cpp's greedy continuations: our argmax equals theirs wherever their margin > 0.5.
    static func teacherForce(_ model: CatalogModel) throws {
        let session = try session(model)
        let vocab = session.model.config.vocabularySize
        var steps = 0, decisive = 0, agree = 0
        for chat in References.greedy.models[References.key(for: model)]!.chats {
            session.reset()
            let ids = chat.prompt_token_ids + chat.generated_token_ids
            let first = chat.prompt_token_ids.count - 1
            let logits = try session.decode(Array(ids.dropLast()), logits: .from(first))
            for (s, want) in chat.generated_token_ids.enumerated() {
                let ours = LogitStats.argmax(logits[(s * vocab)..<((s + 1) * vocab)])
                steps += 1
                guard chat.argmax_logits[s] - chat.runner_up_logits[s] > 0.5 else { continue }
                decisive += 1
                if ours == want { agree += 1 } else { Issue.record("\(chat.name) step \(s): \(ours) vs \(want)") }
            }
        }
        print("\(model.name) greedy teacher forcing: \(agree)/\(decisive) decisive steps agree (\(steps) steps)")
        #expect(agree == decisive && decisive > 0)
    }

    @Test func greedyTeacherForcingOnTheTestModel() throws { try Self.teacherForce(Self.small) }

    @Test(.enabled(if: largePresent, "the 1.5B model is not fetched"))
    func greedyTeacherForcingOn1_5B() throws { try Self.teacherForce(Self.large) }
}
