import Foundation
import Kernels
import LoRA
import Qwen2
import Testing
import TestSupport
@testable import Training

/// Adapter files written by us, read back by us and by the reference readers (gguf-py; `safetensors`).
@Suite struct AdapterFileTests {
    struct Described: Decodable {
        let shape: [Int]
        let sum: Double
        let first: [Double]
    }
    struct GGUFSummary: Decodable {
        let metadata: [String: JSONScalar]
        let tensors: [String: Described]
    }
    struct PEFTSummary: Decodable {
        let config: [String: JSONScalar]
        let tensors: [String: Described]
    }
    enum JSONScalar: Decodable, Equatable {
        case string(String), number(Double), bool(Bool), other
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else { self = .other }
        }
    }

    static func sampleAdapter(_ model: Qwen2Model, rsLoRA: Bool = false) -> LoRAAdapter {
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 3, alpha: 6, targets: [.q, .v, .down], rsLoRA: rsLoRA), model: model.config)
        adapter.fill { s, isB, i, j in Float(sin(Double(s.layer * 31 + s.target.index * 7 + i * 5 + j) + (isB ? 0.5 : 0))) }
        return adapter
    }

    /// Every slot's values as `(name, shape, sum, first 4)` the way the oracle describes them.
    static func check(_ adapter: LoRAAdapter, _ tensors: [String: Described], name: (LoRAAdapter.Slot, Bool) -> String) {
        #expect(tensors.count == 2 * adapter.slots.count)
        let r = adapter.config.rank
        for s in adapter.slots {
            for isB in [false, true] {
                guard let d = tensors[name(s, isB)] else {
                    Issue.record("missing \(name(s, isB))")
                    continue
                }
                let shape = isB ? [s.outFeatures, r] : [r, s.inFeatures]
                let base = adapter.parameters + (isB ? s.bOffset : s.aOffset)
                let values = (0..<shape[0] * shape[1]).map { Double(base[$0]) }
                #expect(d.shape == shape)
                #expect(abs(d.sum - values.reduce(0, +)) < 1e-6 * Double(values.count))
                #expect(d.first == Array(values.prefix(4)))
            }
        }
    }

    @Test func ggufAdapterReadsBackAndInGGUFPy() throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 6))
        defer { try? FileManager.default.removeItem(at: dir) }
        for rs in [false, true] {
            let adapter = Self.sampleAdapter(model, rsLoRA: rs)
            let path = dir.appendingPathComponent("a.gguf").path
            try adapter.saveGGUF(to: path)
            let back = try LoRAAdapter.loadGGUF(path: path, model: model.config)
            #expect(back.config == adapter.config)
            #expect((0..<adapter.count).allSatisfy { back.parameters[$0] == adapter.parameters[$0] })

            let summary = try JSONDecoder().decode(GGUFSummary.self, from: TestSupport.runOracle("adapter_summary.py", [path]))
            #expect(summary.metadata["general.type"] == .string("adapter"))
            #expect(summary.metadata["adapter.type"] == .string("lora"))
            #expect(summary.metadata["general.architecture"] == .string("qwen2"))
            // llama.cpp scales by alpha/rank: the stored alpha must give our scale.
            guard case .number(let alpha) = summary.metadata["adapter.lora.alpha"] else {
                Issue.record("no adapter.lora.alpha")
                continue
            }
            #expect(abs(Float(alpha) / 3 - adapter.config.scale) < 1e-6)
            Self.check(adapter, summary.tensors) { s, isB in "blk.\(s.layer).\(s.target.ggufName).weight.lora_\(isB ? "b" : "a")" }
        }
    }

    @Test func peftAdapterReadsBackAndInSafetensors() throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 6))
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = Self.sampleAdapter(model)
        let out = dir.appendingPathComponent("peft")
        try adapter.savePEFT(to: out, baseModel: "tiny")
        let back = try LoRAAdapter.loadPEFT(from: out, model: model.config)
        #expect(back.config == adapter.config)
        #expect((0..<adapter.count).allSatisfy { back.parameters[$0] == adapter.parameters[$0] })

        let summary = try JSONDecoder().decode(PEFTSummary.self, from: TestSupport.runOracle("adapter_summary.py", [out.path]))
        #expect(summary.config["peft_type"] == .string("LORA"))
        #expect(summary.config["r"] == .number(3))
        #expect(summary.config["lora_alpha"] == .number(6))
        Self.check(adapter, summary.tensors) { s, isB in LoRAAdapter.peftKey(s, isB ? "B" : "A") }
    }

    @Test func badAdapterFilesGiveClearErrors() throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 6))
        defer { try? FileManager.default.removeItem(at: dir) }
        // The base model itself is not an adapter.
        #expect { try LoRAAdapter.loadGGUF(path: dir.appendingPathComponent("tiny.gguf").path, model: model.config) } throws: {
            "\($0)".contains("not a LoRA adapter")
        }
        // An adapter for a bigger model does not fit.
        let other = try WholeModelGradientTests.tinyModel(TinyModel(seed: 6, embd: 48))
        defer { try? FileManager.default.removeItem(at: other.1) }
        let path = dir.appendingPathComponent("big.gguf").path
        try Self.sampleAdapter(other.0).saveGGUF(to: path)
        #expect { try LoRAAdapter.loadGGUF(path: path, model: model.config) } throws: { "\($0)".contains("do not fit") }
        #expect(throws: AdapterError.self) { try LoRAAdapter.loadGGUF(path: dir.appendingPathComponent("missing.gguf").path, model: model.config) }
        #expect(throws: AdapterError.self) { try LoRAAdapter.loadPEFT(from: dir, model: model.config) }
    }

    /// The adapter applied during inference (`Qwen2Session.adapter`) gives the Double reference's loss.
    @Test func sessionWithAdapterMatchesTheReference() throws {
        let tiny = TinyModel(seed: 8)
        let (model, dir) = try WholeModelGradientTests.tinyModel(tiny)
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = Self.sampleAdapter(model)
        let tokens = [5, 9, 33, 2, 2, 48, 17]
        let reference = DoubleReference.loss(model: tiny, tokens: tokens, adapters: WholeModelGradientTests.referenceAdapters(adapter, layers: tiny.layers),
                                             scale: 2)
        for exact in [true, false] {
            // Exact: f32 activations and an f32 KV cache; otherwise the defaults (8-bit activations, f16 cache).
            let session = Qwen2Session(model: model, contextSize: 16, maxBatch: 16, threads: 1, exactActivations: exact,
                                       cacheType: exact ? .f32 : .f16)
            session.adapter = adapter
            // Token by token (generation path) and all at once (prompt path).
            var logits: [Float] = []
            for t in tokens { logits += try session.decode([t], logits: .last) }
            session.reset()
            let batch = try session.decode(tokens, logits: .all)
            let v = model.config.vocabularySize
            for rows in [logits, batch] {
                var total = 0.0
                for t in 0..<tokens.count - 1 {
                    var row = Array(rows[t * v..<(t + 1) * v])
                    CrossEntropyLoss.logSoftmaxInPlace(&row, v)
                    total -= Double(row[tokens[t + 1]])
                }
                total /= Double(tokens.count - 1)
                #expect(abs(total - reference) < (exact ? 1e-4 : 5e-2), "exact \(exact): \(total) vs \(reference)")
            }
        }
    }
}
