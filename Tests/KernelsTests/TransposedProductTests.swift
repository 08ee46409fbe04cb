import CKernels
import Foundation
import Kernels
import Quants
import Testing
import TestSupport

/// The trainer's integer backward product: the 7-bit activation quantizer and the Q7 panel kernel on every path
/// (same bits, and equal to a Double product of what they were given), the 7-bit transposed copy of a weight
/// (within half a step of the dequantized weight), and the whole product against the exact one.
@Suite(.seededRandom) struct TransposedProductTests {
    static let paths = DotKernelTests.paths

    /// 7-bit blocks of x on a path: bytes, and the values they stand for (d·(u − 64)).
    static func quantize7(_ x: [Float], path: Int32) -> (bytes: [UInt8], values: [Double]) {
        var q = [vpg_q8_32](repeating: vpg_q8_32(), count: x.count / 32)
        vpg_quantize_q7_kernel(path)!(x, &q, Int64(x.count))
        let values = q.flatMap { b in withUnsafeBytes(of: b.q) { $0.bindMemory(to: Int8.self).map { Double(b.d) * Double(Int($0) - 64) } } }
        return (q.withUnsafeBytes { Array($0) }, values)
    }

    @Test func activationsHaveSevenBitsWithinHalfAStep() {
        let x = (0..<(32 * 5)).map { _ in TestRandom.float(in: -3...3) } + [Float](repeating: 0, count: 32)
        let results = Self.paths.map { Self.quantize7(x, path: $0) }
        for r in results.dropFirst() { #expect(r.bytes == results[0].bytes) }
        let blocks = results[0].bytes.withUnsafeBytes { Array($0.bindMemory(to: vpg_q8_32.self)) }
        for (b, block) in blocks.enumerated() {
            let ints = withUnsafeBytes(of: block.q) { Array($0.bindMemory(to: Int8.self)) }
            #expect(ints.allSatisfy { (1...127).contains($0) }, "stored plus 64")
            let amax = x[(32 * b)..<(32 * b + 32)].map { abs($0) }.max()!
            #expect(abs(block.d - amax / 63) <= 1e-7 * amax)
            for i in 0..<32 { #expect(abs(results[0].values[32 * b + i] - Double(x[32 * b + i])) <= Double(block.d) / 2 * 1.0001) }
        }
    }

    @Test func panelKernelAgreesOnEveryPathAndMatchesDouble() throws {
        for (rows, tokens, blocks, r0, r1) in [(8, 1, 1, 0, 8), (13, 5, 3, 0, 13), (70, 17, 17, 3, 70), (24, 37, 40, 9, 23), (16, 67, 17, 5, 16)] {
            let n = blocks * 32
            // The transpose of an f32 weight [n, rows]; every fifth value an extreme, so that stored weights of ±63
            // meet activations of ±63 (the int16 lanes' largest sums).
            let weight = (0..<(n * rows)).map { i in i % 5 == 0 ? (i % 2 == 0 ? 1 : -1) * Float(2) : TestRandom.float(in: -2...2) }
            let t = try weight.withUnsafeBytes { raw in
                try #require(TransposedWeight(WeightMatrix(type: .f32, data: raw.baseAddress!, rows: n, cols: rows)))
            }
            let w = (0..<rows).map { r in (0..<n).map { Double(t.value(r, $0)) } }
            let x = (0..<tokens).map { _ in
                Self.quantize7((0..<n).map { i in i % 7 == 0 ? -2 : TestRandom.float(in: -2...2) }, path: 0)
            }
            let stride = x[0].bytes.count, packedX = x.flatMap(\.bytes), ld = r1 - r0 + 3
            let outputs = try Self.paths.map { path in
                let kernel = try #require(vpg_matmul_panels_q7_kernel(path))
                var y = [Float](repeating: .nan, count: tokens * ld)
                packedX.withUnsafeBytes { xs in
                    kernel(t.data, Int64(t.panelBytes), xs.baseAddress!, Int64(stride), Int64(tokens), &y,
                           Int64(ld), Int64(r0), Int64(r1), Int64(n))
                }
                return y
            }
            for y in outputs.dropFirst() {
                let differing = zip(y, outputs[0]).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(rows)×\(n), \(tokens) tokens: \(differing) outputs differ between paths")
            }
            PanelKernelTests.expectMatchesDouble(outputs[0], weights: w, activations: x.map(\.values), ld: ld, r0: r0, r1: r1, "Q7")
        }
    }

    /// A Q4_K matrix of 64 rows × 512 columns as a WeightMatrix over `bytes`.
    static func q4KMatrix(rows: Int, cols: Int) -> [UInt8] {
        (0..<rows).flatMap { _ in DotKernelTests.randomRow(.q4_K, blocks: cols / 256) }
    }

    @Test func transposedCopyIsWithinHalfAStepOfTheWeight() throws {
        let rows = 64, cols = 512
        let bytes = Self.q4KMatrix(rows: rows, cols: cols)
        try bytes.withUnsafeBytes { raw in
            let weight = WeightMatrix(type: .q4_K, data: raw.baseAddress!, rows: rows, cols: cols)
            let t = try #require(TransposedWeight(weight, threads: 2))
            #expect(t.rows == cols && t.cols == rows)
            let w = try (0..<rows).map { try Dequantize.row(.q4_K, bytes: Array(bytes[($0 * weight.rowBytes)..<(($0 + 1) * weight.rowBytes)]), count: cols) }
            for c in 0..<cols {
                for block in 0..<(rows / 32) {
                    let amax = (0..<32).map { abs(w[32 * block + $0][c]) }.max()!
                    for i in 0..<32 {
                        let r = 32 * block + i
                        // Half a step (amax/63, an f32) plus f32 rounding.
                        #expect(abs(t.value(c, r) - w[r][c]) <= amax / 63 * (0.5 + 1e-5) + 1e-9, "(\(r), \(c))")
                    }
                }
            }
            // f32 rows of 37 columns.
            let f32 = (0..<(64 * 37)).map { _ in TestRandom.float(in: -1...1) }
            try f32.withUnsafeBytes { values in
                let t = try #require(TransposedWeight(WeightMatrix(type: .f32, data: values.baseAddress!, rows: 64, cols: 37)))
                for c in 0..<37 {
                    for r in 0..<64 {
                        let amax = (0..<32).map { abs(f32[(r / 32 * 32 + $0) * 37 + c]) }.max()!
                        #expect(abs(t.value(c, r) - f32[r * 37 + c]) <= amax / 63 * (0.5 + 1e-5), "f32 (\(r), \(c))")
                    }
                }
            }
            let odd = WeightMatrix(type: .q4_K, data: raw.baseAddress!, rows: 40, cols: cols)
            #expect(TransposedWeight(odd) == nil, "40 rows are not whole 32-row blocks")
        }
    }

    @Test(arguments: [false, true])
    func productIsCloseToTheExactOne(_ accumulate: Bool) throws {
        let rows = 96, cols = 512, n = 37
        let bytes = Self.q4KMatrix(rows: rows, cols: cols)
        let dy = (0..<(n * rows)).map { _ in TestRandom.float(in: -1...1) }
        let start = (0..<(n * cols)).map { _ in TestRandom.float(in: -1...1) }
        try bytes.withUnsafeBytes { raw in
            let weight = WeightMatrix(type: .q4_K, data: raw.baseAddress!, rows: rows, cols: cols)
            let t = try #require(TransposedWeight(weight))
            let matmul = MatMul(threads: 2)
            var exact = start, integer = start
            matmul.multiplyTransposed(weight, dy, &exact, n: n, accumulate: accumulate)
            matmul.multiplyTransposed(t, dy, &integer, n: n, accumulate: accumulate)
            let err = zip(exact, integer).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let norm = exact.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            // Two 7-bit roundings of uniform values: each ≈ 1/(63·√12·0.58) ≈ 0.8% of an element, so ~1% of the product.
            #expect(err / norm < 0.02, "relative error \(err / norm)")
            #expect(err / norm > 1e-5, "the integer product should not be the exact one")
        }
    }
}
