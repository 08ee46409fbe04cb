import GGUF
import Qwen2
import TestSupport
import Testing

/// The tensor table (`Qwen2Config.tensors`) against a file written by llama.cpp's converter and quantizer (the real
/// 0.5B model): the same names, each with the same GGUF dims; every name parses back to its entry; the LoRA targets
/// are the seven projection matrices.
@Suite struct TensorTableTests {
    @Test func tableMatchesTheRealModelsFile() throws {
        let file = try GGUFFile(path: try TestSupport.testModelPath())
        let config = try Qwen2Config(gguf: file.header)
        let table = config.tensors
        let inFile = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.dims) })
        #expect(table.count == inFile.count, "\(table.count) tensors in the table, \(inFile.count) in the file")
        for t in table {
            #expect(inFile[t.name] == t.ggufDims, "\(t.name): table \(t.ggufDims), file \(inFile[t.name] ?? [])")
            let parsed = try #require(Qwen2Tensor.parse(t.name))
            #expect(parsed.role == t.role && parsed.layer == t.layer && parsed.isBias == t.isBias, "\(t.name)")
        }
        let targets = table.compactMap(\.loraTarget)
        #expect(targets.count == 7 * config.layerCount && Set(targets) == Set(LoRATarget.allCases))
        for target in LoRATarget.allCases {
            let (out, input) = target.shape(config)
            #expect(inFile["blk.0.\(target.ggufName).weight"] == [input, out], "\(target)")
        }
        #expect(Qwen2Tensor.parse("blk.x.attn_q.weight") == nil && Qwen2Tensor.parse("attn_q.weight") == nil
            && Qwen2Tensor.parse("blk.0.output.weight") == nil && Qwen2Tensor.parse("blk.0.attn_q.scale") == nil)
    }

    /// The published files' order (the real 0.5B's), and llama.cpp's Q4_K_M rule applied in it: the attn_v and
    /// ffn_down matrices that get Q6_K in the published 1.5B Q4_K_M file (qwen2.5-coder-1.5b-instruct-q4_k_m.gguf,
    /// read with vpgea-gguf: layers 0, 1, 5–10, 13, 16, 19, 21, 24, 27 for both; in layer order the rule would give
    /// 0–2, 5, 8, 11, …).
    @Test func publishedOrderAndTheQ4KMRule() throws {
        let file = try GGUFFile(path: try TestSupport.testModelPath())
        #expect(try Qwen2Config(gguf: file.header).tensorsInPublishedOrder.map(\.name) == file.tensors.map(\.name))
        let config = Qwen2Config(layerCount: 28, embeddingLength: 1536, feedForwardLength: 8960, headCount: 12, headCountKV: 2,
                                 vocabularySize: 151_936)
        let tensors = config.tensorsInPublishedOrder
        var plan = QuantizationPlan(scheme: .q4_K_M, tensorNames: tensors.map(\.name))
        var q6: [Qwen2Tensor.Role: [Int]] = [:]
        for t in tensors where t.isMatrix {
            if plan.type(name: t.name, dims: t.ggufDims, current: .f32) == .q6_K, let l = t.layer { q6[t.role, default: []].append(l) }
        }
        let published = [0, 1, 5, 6, 7, 8, 9, 10, 13, 16, 19, 21, 24, 27]
        #expect(q6[.attnV]?.sorted() == published && q6[.ffnDown]?.sorted() == published)
        #expect(Set(q6.keys) == [.attnV, .ffnDown])
    }
}
