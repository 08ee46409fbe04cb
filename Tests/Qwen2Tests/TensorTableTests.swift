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
}
