import Foundation
import GGUF
import LoRA
import Qwen2
import Testing
import TestSupport
@testable import Training

/// A merged model without an adapter computes what the base model computes with it.
@Suite struct MergedExportTests {
    @Test(arguments: ["keep", "q8_0"])
    func mergedModelMatchesBasePlusAdapter(_ type: String) throws {
        let (model, dir) = try WholeModelGradientTests.tinyModel(TinyModel(seed: 14, ff: 64))   // rows of whole Q8_0 blocks
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapter = LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), model: model.config)
        adapter.fill { s, isB, i, j in Float(0.1 * sin(Double(3 * i + 2 * j + s.layer + s.target.index + (isB ? 1 : 0)))) }
        adapter.userScale = 0.75
        let path = dir.appendingPathComponent("merged.gguf").path
        let target: MergedExport.Target = type == "keep" ? .keep : .type(.q8_0)
        let changed = try MergedExport.write(base: model.file, adapter: adapter, to: path, target: target)
        #expect(changed.count == (type == "keep" ? 0 : adapter.slots.count))

        let tokens = [4, 8, 15, 16, 23, 42]
        let withAdapter = Qwen2Session(model: model, contextSize: 8, maxBatch: 8, threads: 1)
        withAdapter.adapter = adapter
        let expected = try withAdapter.decode(tokens, logits: .all)
        let plain = try Qwen2Session(model: model, contextSize: 8, maxBatch: 8, threads: 1).decode(tokens, logits: .all)
        let merged = try Qwen2Session(model: try Qwen2Model(path: path), contextSize: 8, maxBatch: 8, threads: 1).decode(tokens, logits: .all)
        let error = zip(merged, expected).map { abs($0 - $1) }.max()!
        let effect = zip(plain, expected).map { abs($0 - $1) }.max()!
        #expect(effect > 0.5, "the adapter should matter: \(effect)")
        #expect(error < (type == "keep" ? 1e-4 : 0.1 * effect), "merged vs adapter: \(error) (adapter effect \(effect))")
        // Tensors that were not adapted are copied byte for byte.
        let out = try GGUFFile(path: path)
        for name in ["token_embd.weight", "output.weight", "blk.1.attn_norm.weight"] {
            #expect(Array(out.data(of: try out.tensor(name))) == Array(model.file.data(of: try model.file.tensor(name))))
        }
    }
}
