import CKernels
import Foundation
import GGUF
import Kernels
import Quants
import Qwen2
import Testing
import TestSupport

/// The integer generation kernels on real weight rows of the test model, generic against the best path this CPU has.
@Suite(.seededRandom) struct RealRowKernelTests {
    @Test(.enabled(if: KernelPath.selected != .generic, "no SIMD path on this CPU"))
    func pathsAgreeOnRealRows() throws {
        let file = try GGUFFile(path: try #require(References.path(of: ForwardReferenceTests.small)))
        for t in file.tensors where t.dims.count == 2 && vpg_dotq_kernel(Int32(t.type.rawValue), 0) != nil {
            let name = t.name
            let n = t.rowLength, block = Int(vpg_dotq_block(Int32(t.type.rawValue)))
            let x = (0..<n).map { _ in TestRandom.float(in: -3...3) }
            var xq = [UInt8](repeating: 0, count: block == 32 ? n / 32 * 36 : n / 256 * 292)
            xq.withUnsafeMutableBytes { q in
                vpg_quantize_kernel(Int32(block), Int32(VPG_PATH_GENERIC.rawValue))!(x, q.baseAddress!, Int64(n))
            }
            let g = vpg_dotq_kernel(Int32(t.type.rawValue), Int32(VPG_PATH_GENERIC.rawValue))!
            let a = vpg_dotq_kernel(Int32(t.type.rawValue), KernelPath.selected.rawValue)!
            let rowBytes = t.type.format.rowBytes(n)!
            var worst: Float = 0
            for r in 0..<min(t.rowCount, 5000) {
                let row = file.data(of: t).baseAddress! + r * rowBytes
                let (u, v) = xq.withUnsafeBytes { (g(row, $0.baseAddress!, Int64(n)), a(row, $0.baseAddress!, Int64(n))) }
                worst = max(worst, abs(u - v) / max(abs(u), 1))
            }
            #expect(worst < 1e-4, "\(name) (\(t.type.name)): relative difference \(worst)")
        }
    }
}

/// Every matrix product of a real token's forward pass (position 0, every layer, the output head), computed
/// on the generic and the best path this CPU has from the same input, agrees. (Whole forward passes on the two paths drift
/// apart by up to a few tenths of a logit: an ulp of difference can round an activation to the next 8-bit
/// step, as between any two valid llama.cpp builds; each product on its own must agree.)
@Suite struct ForwardProductPathTests {
    @Test(.enabled(if: KernelPath.selected != .generic, "no SIMD path on this CPU"))
    func everyProductOfARealForwardAgrees() throws {
        let model = try Qwen2Model(path: try #require(References.path(of: ForwardReferenceTests.small)))
        let c = model.config, w = model.weights
        let g = MatMul(threads: 2, path: .generic, exactActivations: false)
        let a = MatMul(threads: 2, path: .selected, exactActivations: false)
        var x = [Float](repeating: 0, count: c.embeddingLength)
        x.withUnsafeMutableBufferPointer { w.tokenEmbd.dequantizeRow(785, into: $0.baseAddress!) }
        func check(_ name: String, _ m: WeightMatrix, _ input: [Float]) -> [Float] {
            var y1 = [Float](repeating: 0, count: m.rows), y2 = y1
            input.withUnsafeBufferPointer { i in
                y1.withUnsafeMutableBufferPointer { g.multiply(m, i.baseAddress!, $0.baseAddress!, n: 1) }
                y2.withUnsafeMutableBufferPointer { a.multiply(m, i.baseAddress!, $0.baseAddress!, n: 1) }
            }
            let worst = zip(y1, y2).map { abs($0 - $1) / max(abs($0), 1) }.max()!
            #expect(worst < 1e-4, "\(name) \(m.type.name): \(worst)")
            return y2
        }
        for (l, layer) in w.layers.enumerated() {
            var xb = [Float](repeating: 0, count: c.embeddingLength)
            Ops.rmsNorm(x, layer.attnNorm, &xb, n: 1, dim: c.embeddingLength, eps: c.rmsEps)
            _ = check("\(l) q", layer.attnQ, xb)
            _ = check("\(l) k", layer.attnK, xb)
            let v = check("\(l) v", layer.attnV, xb)
            // Position 0: attention returns V (repeated per group).
            var att = [Float](repeating: 0, count: c.headCount * c.headDim)
            for h in 0..<c.headCount { for d in 0..<c.headDim { att[h * c.headDim + d] = v[(h / (c.headCount / c.headCountKV)) * c.headDim + d] + layer.attnVBias[(h / (c.headCount / c.headCountKV)) * c.headDim + d] } }
            let o = check("\(l) o", layer.attnOutput, att)
            for i in 0..<x.count { x[i] += o[i] }
            Ops.rmsNorm(x, layer.ffnNorm, &xb, n: 1, dim: c.embeddingLength, eps: c.rmsEps)
            var gate = check("\(l) gate", layer.ffnGate, xb)
            let up = check("\(l) up", layer.ffnUp, xb)
            Ops.swiglu(&gate, up, count: gate.count)
            let down = check("\(l) down", layer.ffnDown, gate)
            for i in 0..<x.count { x[i] += down[i] }
        }
        var xb = [Float](repeating: 0, count: c.embeddingLength)
        Ops.rmsNorm(x, w.outputNorm, &xb, n: 1, dim: c.embeddingLength, eps: c.rmsEps)
        _ = check("output", w.output, xb)
    }
}
