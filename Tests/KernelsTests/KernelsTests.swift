import CKernels
import Foundation
import Kernels
import Quants
import Testing
import TestSupport

/// Each kernel against a plain Double computation of the same formula.
@Suite(.seededRandom) struct KernelsTests {
    func random(_ n: Int, _ scale: Float = 1) -> [Float] {
        (0..<n).map { _ in TestRandom.float(in: -scale...scale) }
    }

    struct Shape: Sendable, CustomTestStringConvertible {
        let type: GGMLType, cols: Int
        var testDescription: String { "\(type.name)×\(cols)" }
    }

    @Test(arguments: [Shape(type: .f32, cols: 64), Shape(type: .q8_0, cols: 96), Shape(type: .q4_K, cols: 256),
                      Shape(type: .q6_K, cols: 512), Shape(type: .q5_0, cols: 32), Shape(type: .q4_0, cols: 160)], [1, 3, 17])
    func matmulMatchesDoubleProduct(_ shape: Shape, _ n: Int) throws {
        let type = shape.type, cols = shape.cols
        let rows = 300   // more than two panels, not a multiple of the panel size
        // Random valid blocks: random bytes with small finite scales, dequantized by the scalar reference.
        var bytes = [UInt8]((0..<(rows * type.format.rowBytes(cols)!)).map { _ in TestRandom.byte() })
        if type == .f32 {
            bytes = random(rows * cols).withUnsafeBytes { Array($0) }
        } else {
            let f = type.format
            for b in 0..<(bytes.count / f.bytesPerBlock) {
                let scaleAt = type == .q6_K ? 208 : 0
                let half = floatToHalf(TestRandom.float(in: 0.001...0.01))
                bytes[b * f.bytesPerBlock + scaleAt] = UInt8(half & 0xFF)
                bytes[b * f.bytesPerBlock + scaleAt + 1] = UInt8(half >> 8)
                if type == .q4_K { bytes[b * f.bytesPerBlock + 2] = 0; bytes[b * f.bytesPerBlock + 3] = 0 }
            }
        }
        let input = random(n * cols)
        let weights = try Dequantize.row(type, bytes: bytes, count: rows * cols)   // [rows, cols]
        // Exact activations: every path must give the f32 product.
        let exact = try product(MatMul(threads: 2, exactActivations: true), bytes, type, input, rows: rows, cols: cols, n: n)
        // 8-bit activations (the default for a few tokens, and for prompts on types with panel kernels): the error of each output is bounded by
        // Σ|w| · (half a quantization step of the activation block).
        let quantized = try product(MatMul(threads: 2, exactActivations: false), bytes, type, input, rows: rows, cols: cols, n: n)
        let block = type == .q4_K || type == .q6_K ? 256 : 32
        // [n, cols / block] largest |x| of each activation block
        let amax = (0..<n).map { t in
            stride(from: 0, to: cols, by: block).map { b0 in input[(t * cols + b0)..<(t * cols + min(b0 + block, cols))].map { abs(Double($0)) }.max()! }
        }
        var worst = 0.0
        for t in 0..<n {
            for r in 0..<rows {
                var want = 0.0, bound = 0.0, magnitude = 0.0   // magnitude: Σ|w·x|, the scale of f32 rounding
                for k in 0..<cols {
                    let wk = Double(weights[r * cols + k])
                    want += wk * Double(input[t * cols + k])
                    magnitude += abs(wk * Double(input[t * cols + k]))
                    bound += abs(wk) * amax[t][k / block] / 254 * 1.001
                }
                worst = max(worst, abs(Double(exact[t * rows + r]) - want) / (magnitude + 1e-6))
                if type != .f32, MatMul.takesIntegerKernels(type, tokens: n, generationStep: false) {
                    #expect(abs(Double(quantized[t * rows + r]) - want) <= bound + 1e-4, "\(type.name) 8-bit row \(r)")
                }
            }
        }
        #expect(worst < 1e-5, "\(type.name) n=\(n): error relative to Σ|w·x| \(worst)")
    }

    func product(_ matmul: MatMul, _ bytes: [UInt8], _ type: GGMLType, _ input: [Float], rows: Int, cols: Int, n: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: n * rows)
        bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(type: type, data: raw.baseAddress!, rows: rows, cols: cols)
            input.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { matmul.multiply(w, x.baseAddress!, $0.baseAddress!, n: n) } }
        }
        return out
    }

    @Test func rmsNormMatchesFormula() {
        let n = 3, dim = 37
        let x = random(n * dim, 3), w = random(dim)
        var y = [Float](repeating: 0, count: n * dim)
        Ops.rmsNorm(x, w, &y, n: n, dim: dim, eps: 1e-6)
        for t in 0..<n {
            let ms = (0..<dim).reduce(0.0) { $0 + Double(x[t * dim + $1]) * Double(x[t * dim + $1]) } / Double(dim)
            for i in 0..<dim {
                let want = Double(x[t * dim + i]) / (ms + 1e-6).squareRoot() * Double(w[i])
                #expect(abs(Double(y[t * dim + i]) - want) < 1e-5)
            }
        }
    }

    @Test func ropePairsIWithIPlusHalf() {
        let heads = 2, headDim = 8, n = 2
        let x0 = random(n * heads * headDim)
        var x = x0
        let positions: [Int32] = [0, 5]
        Ops.rope(&x, positions: positions, n: n, heads: heads, headDim: headDim, base: 10000)
        for t in 0..<n {
            for h in 0..<heads {
                for i in 0..<headDim / 2 {
                    let theta = Double(positions[t]) * pow(10000.0, -2.0 * Double(i) / Double(headDim))
                    let base = t * heads * headDim + h * headDim
                    let a = Double(x0[base + i]), b = Double(x0[base + i + headDim / 2])
                    #expect(abs(Double(x[base + i]) - (a * cos(theta) - b * sin(theta))) < 1e-5)
                    #expect(abs(Double(x[base + i + headDim / 2]) - (a * sin(theta) + b * cos(theta))) < 1e-5)
                }
            }
        }
    }

    @Test func attentionMatchesNaiveCausalGQA() {
        let heads = 4, kvHeads = 2, headDim = 16, n = 5, start = 3, ctx = 16
        let q = random(n * heads * headDim)
        let keys = random(ctx * kvHeads * headDim), values = random(ctx * kvHeads * headDim)
        var out = [Float](repeating: .nan, count: n * heads * headDim)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(threads: 2, heads: heads, kvHeads: kvHeads, ctx: ctx))
        let positions = (0..<n).map { Int32(start + $0) }, sequenceStart = [Int32](repeating: 0, count: n)
        Attention.run(q: q, keys: keys, values: values, out: &out, n: n, positions: positions, sequenceStart: sequenceStart,
                      heads: heads, kvHeads: kvHeads, headDim: headDim, scratch: &scratch, ctx: ctx, threads: 2)
        for t in 0..<n {
            for h in 0..<heads {
                let kvh = h / (heads / kvHeads)
                let length = start + t + 1
                var scores = (0..<length).map { j in
                    (0..<headDim).reduce(0.0) { $0 + Double(q[(t * heads + h) * headDim + $1]) * Double(keys[(j * kvHeads + kvh) * headDim + $1]) }
                        / Double(headDim).squareRoot()
                }
                let m = scores.max()!
                scores = scores.map { exp($0 - m) }
                let s = scores.reduce(0, +)
                for d in 0..<headDim {
                    let want = (0..<length).reduce(0.0) { $0 + scores[$1] / s * Double(values[$1 * kvHeads * headDim + kvh * headDim + d]) }
                    #expect(abs(Double(out[(t * heads + h) * headDim + d]) - want) < 1e-5)
                }
            }
        }
    }

    /// f16 and q8_0 caches on every path: the same attention as a Double computation over the values the
    /// cache holds (its rows dequantized), so the only difference from f32 is the storage rounding.
    @Test(arguments: [KVCacheType.f16, .q8_0])
    func attentionOverQuantizedCache(_ cache: KVCacheType) throws {
        let heads = 4, kvHeads = 2, headDim = 64, n = 3, start = 9, ctx = 16, kvDim = kvHeads * headDim
        let q = random(n * heads * headDim), k = random(ctx * kvDim), v = random(ctx * kvDim)
        let rowBytes = cache.bytes(kvDim)
        var kBytes = [UInt8](repeating: 0, count: ctx * rowBytes), vBytes = kBytes
        for r in 0..<ctx {
            k.withUnsafeBufferPointer { src in kBytes.withUnsafeMutableBytes { Quantize.row(cache.ggmlType, src.baseAddress! + r * kvDim, $0.baseAddress! + r * rowBytes, count: kvDim) } }
            v.withUnsafeBufferPointer { src in vBytes.withUnsafeMutableBytes { Quantize.row(cache.ggmlType, src.baseAddress! + r * kvDim, $0.baseAddress! + r * rowBytes, count: kvDim) } }
        }
        let keys = try Dequantize.row(cache.ggmlType, bytes: kBytes, count: ctx * kvDim)
        let values = try Dequantize.row(cache.ggmlType, bytes: vBytes, count: ctx * kvDim)
        for path in KernelPath.allCases.filter(\.isSupported) {
            var out = [Float](repeating: .nan, count: n * heads * headDim)
            var scratch = [Float](repeating: 0, count: Attention.scratchCount(threads: 2, heads: heads, kvHeads: kvHeads, ctx: ctx))
            let positions = (0..<n).map { Int32(start + $0) }, sequenceStart = [Int32](repeating: 0, count: n)
            kBytes.withUnsafeBytes { kb in vBytes.withUnsafeBytes { vb in
                Attention.run(q: q, keys: kb.baseAddress!, values: vb.baseAddress!, cache: cache, path: path, out: &out, n: n,
                              positions: positions, sequenceStart: sequenceStart, heads: heads, kvHeads: kvHeads,
                              headDim: headDim, scratch: &scratch, ctx: ctx, threads: 2)
            } }
            var worst = 0.0
            for t in 0..<n {
                for h in 0..<heads {
                    let kvh = h / (heads / kvHeads), length = start + t + 1
                    var scores = (0..<length).map { j in
                        (0..<headDim).reduce(0.0) { $0 + Double(q[(t * heads + h) * headDim + $1]) * Double(keys[j * kvDim + kvh * headDim + $1]) }
                            / Double(headDim).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { exp($0 - m) }
                    let s = scores.reduce(0, +)
                    for d in 0..<headDim {
                        let want = (0..<length).reduce(0.0) { $0 + scores[$1] / s * Double(values[$1 * kvDim + kvh * headDim + d]) }
                        worst = max(worst, abs(Double(out[(t * heads + h) * headDim + d]) - want))
                    }
                }
            }
            #expect(worst < 1e-5, "\(cache) path \(path): \(worst)")
        }
    }

    /// The grouped attention kernel on every path and cache type, for group sizes and head widths that take
    /// the SIMD loops (1…8 heads, whole 8-wide steps) and the plain fallback (9 heads, a 12-wide head), against
    /// Double over the values the cache holds.
    @Test(arguments: [KVCacheType.f32, .f16, .q8_0], [1, 5, 7, 9])
    func groupedAttentionKernel(_ cache: KVCacheType, _ group: Int) throws {
        let paths = KernelPath.allCases.filter(\.isSupported).map(\.rawValue)
        for headDim in [12, 64, 128] where cache.fits(headDim: headDim) {
            let length = 37, rowBytes = cache.bytes(headDim) + 6   // rows further apart than one head, as in a cache
            let q = random(group * headDim), k = random(length * headDim), v = random(length * headDim)
            var kBytes = [UInt8](repeating: 0, count: length * rowBytes), vBytes = kBytes
            var keys = [Double](), values = [Double]()
            for j in 0..<length {
                for (src, dst) in [(k, 0), (v, 1)] {
                    var row = [UInt8](repeating: 0, count: cache.bytes(headDim))
                    src.withUnsafeBufferPointer { s in row.withUnsafeMutableBytes { Quantize.row(cache.ggmlType, s.baseAddress! + j * headDim, $0.baseAddress!, count: headDim) } }
                    let held = try Dequantize.row(cache.ggmlType, bytes: row, count: headDim).map(Double.init)
                    if dst == 0 { kBytes.replaceSubrange((j * rowBytes)..<(j * rowBytes + row.count), with: row); keys += held }
                    else { vBytes.replaceSubrange((j * rowBytes)..<(j * rowBytes + row.count), with: row); values += held }
                }
            }
            var want = [Double](repeating: 0, count: group * headDim)
            for g in 0..<group {
                var p = (0..<length).map { j in (0..<headDim).reduce(0.0) { $0 + Double(q[g * headDim + $1]) * keys[j * headDim + $1] } / Double(headDim).squareRoot() }
                let m = p.max()!
                p = p.map { exp($0 - m) }
                let s = p.reduce(0, +)
                for d in 0..<headDim { want[g * headDim + d] = (0..<length).reduce(0.0) { $0 + p[$1] / s * values[$1 * headDim + d] } }
            }
            for path in paths {
                let attend = try #require(vpg_attend_kernel(Int32(cache.ggmlType.rawValue), path))
                var out = [Float](repeating: .nan, count: group * headDim), scores = [Float](repeating: 0, count: group * length)
                kBytes.withUnsafeBytes { kb in vBytes.withUnsafeBytes { vb in
                    attend(q, kb.baseAddress!, vb.baseAddress!, Int64(rowBytes), Int64(length), Int32(group), Int32(headDim),
                           1 / Float(headDim).squareRoot(), &scores, &out)
                } }
                let worst = zip(out, want).map { abs(Double($0) - $1) }.max()!
                #expect(worst < 1e-5, "\(cache), \(group) heads of \(headDim), path \(path): \(worst)")
            }
        }
    }

    /// Two sequences in one cache: each row reads only its own sequence, exactly as a one-sequence call would.
    @Test func attentionKeepsSequencesApart() {
        let heads = 4, kvHeads = 2, headDim = 8, ctx = 8, kvDim = kvHeads * headDim
        let q = random(2 * heads * headDim)
        let keys = random(2 * ctx * kvDim), values = random(2 * ctx * kvDim)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(threads: 2, heads: heads, kvHeads: kvHeads, ctx: ctx))
        var both = [Float](repeating: .nan, count: 2 * heads * headDim)
        Attention.run(q: q, keys: keys, values: values, out: &both, n: 2, positions: [5, 2], sequenceStart: [0, Int32(ctx)],
                      heads: heads, kvHeads: kvHeads, headDim: headDim, scratch: &scratch, ctx: ctx, threads: 2)
        for (row, (position, start)) in [(5, 0), (2, ctx)].enumerated() {
            var alone = [Float](repeating: .nan, count: heads * headDim)
            let qRow = Array(q[row * heads * headDim..<(row + 1) * heads * headDim])
            let k = Array(keys[start * kvDim..<(start + ctx) * kvDim]), v = Array(values[start * kvDim..<(start + ctx) * kvDim])
            Attention.run(q: qRow, keys: k, values: v, out: &alone, n: 1, positions: [Int32(position)], sequenceStart: [0],
                          heads: heads, kvHeads: kvHeads, headDim: headDim, scratch: &scratch, ctx: ctx, threads: 1)
            #expect(Array(both[row * heads * headDim..<(row + 1) * heads * headDim]) == alone)
        }
    }
}
