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
/// sgemm; BF16 on AVX512-BF16: activations rounded to bf16, against the oracle that rounds its products' inputs so), on
/// every kernel path the CPU has. An f32 cache, so that nothing but the products' f32 rounding remains.
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
        func oracle(bf16Inputs: Bool) throws -> [[Double]] {
            try JSONDecoder().decode(Oracle.self, from: TestSupport.runOracle(
                "first_token_logits.py", [path, "\(token)", "\(vocab)"] + (bf16Inputs ? ["bf16"] : []))).top
        }
        let exact = try oracle(bf16Inputs: false), rounded = type == .bf16 ? try oracle(bf16Inputs: true) : exact
        #expect(exact.count == vocab)
        let scale = exact.map { abs($0[1]) }.max()!
        for kernelPath in KernelPath.allCases where kernelPath.isSupported {
            let session = Qwen2Session(model: model, contextSize: 64, maxBatch: 16, threads: 2, kernelPath: kernelPath,
                                       cacheType: .f32)
            for prompt in [[token], [token, 3, 5, 8, 13, 21, 34, 55]] {
                session.reset()
                let logits = try session.decode(prompt, logits: .all)
                func error(_ top: [[Double]]) -> Double { top.map { abs(Double(logits[Int($0[0])]) - $0[1]) }.max()! }
                // BF16 prompts where the CPU has AVX512-BF16 round the activations to bf16 (MatMul.Plan.bf16Products).
                let bf16 = MatMul.plan(type, rows: 40, tokens: prompt.count, generationStep: false,
                                       exactActivations: false, path: kernelPath) == .bf16Products
                let label = "\(scheme), \(kernelPath), \(prompt.count) tokens\(bf16 ? ", bf16 activations" : "")"
                #expect(error(bf16 ? rounded : exact) <= 1e-5 * scale, "\(label): max |Δlogit| \(error(bf16 ? rounded : exact))")
                if bf16 {   // the rounding is there to be seen: exact math lies beyond the bound
                    #expect(error(exact) > 1e-4 * scale, "\(label): max |Δlogit| from exact math only \(error(exact))")
                }
            }
        }
    }

    struct Oracle: Decodable { let top: [[Double]] }
}
