import Foundation
import GGUF
import Kernels
import Quants
import Qwen2
import TestSupport
import Testing

/// A model whose matrices are BF16 or F16 (vpgea-quantize's output, as many Hugging Face conversions ship), against an
/// exact float64 forward by numpy from gguf-py's dequantization (Tools/oracles/first_token_logits.py): the logits of
/// the first position, alone (one token: the fused dots) and at the start of an 8-token prompt (dequantized panels and
/// sgemm), on every kernel path the CPU has. An f32 cache, so that nothing but the products' f32 rounding remains.
/// Sizes leave tails: 40 columns (the dots' 32-wide step, an 8-wide one) and 52 (a scalar tail too).
@Suite struct HalfPrecisionModelTests {
    @Test(arguments: ["BF16", "F16"])
    func firstPositionMatchesTheFloat64Oracle(_ scheme: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("tiny.gguf").path, path = dir.appendingPathComponent("half.gguf").path
        try TinyModel(seed: 11, embd: 40, ff: 52, heads: 4, kvHeads: 2).write(to: source)
        _ = try ModelQuantizer.write(try GGUFFile(path: source), scheme: try #require(QuantizationScheme(name: scheme)),
                                     to: path)
        let model = try Qwen2Model(path: path)
        let type: GGMLType = scheme == "BF16" ? .bf16 : .f16
        #expect(model.weights.layerMatrices.allSatisfy { $0.type == type })
        let token = 7, vocab = model.config.vocabularySize
        let oracle = try JSONDecoder().decode(Oracle.self, from: TestSupport.runOracle(
            "first_token_logits.py", [path, "\(token)", "\(vocab)"]))
        #expect(oracle.top.count == vocab)
        let scale = oracle.top.map { abs($0[1]) }.max()!
        for kernelPath in KernelPath.allCases where kernelPath.isSupported {
            let session = Qwen2Session(model: model, contextSize: 64, maxBatch: 16, threads: 2, kernelPath: kernelPath,
                                       cacheType: .f32)
            for prompt in [[token], [token, 3, 5, 8, 13, 21, 34, 55]] {
                session.reset()
                let logits = try session.decode(prompt, logits: .all)
                let error = oracle.top.map { abs(Double(logits[Int($0[0])]) - $0[1]) }.max()!
                #expect(error <= 1e-5 * scale, "\(scheme), \(kernelPath), \(prompt.count) tokens: max |Δlogit| \(error)")
            }
        }
    }

    struct Oracle: Decodable { let top: [[Double]] }
}
