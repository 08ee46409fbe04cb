import CKernels
import Foundation
import Kernels
import Quants
import Testing
import TestSupport

/// A Q4_0, Q5_0, Q8_0, Q4_K or Q6_K matrix interleaved by sixteen rows gives every product plan and `dequantizeRow` the stored matrix's
/// bits, on every path the CPU has (AVX-512's own kernels read the layout; the others put groups of rows back): a
/// model interleaved for AVX-512 may run on another path. 80 rows (the last product range of 64 rows is partial),
/// 512 columns.
@Suite(.seededRandom) struct InterleavedWeightTests {
    static let rows = 80, cols = 512
    static var paths: [KernelPath] { KernelPath.allCases.filter(\.isSupported) }
    static let types: [GGMLType] = [.q4_0, .q5_0, .q8_0, .q4_K, .q6_K]

    static func withMatrices(_ type: GGMLType, _ body: (WeightMatrix, WeightMatrix) throws -> Void) rethrows {
        let bytes = (0..<rows).flatMap { _ in DotKernelTests.randomRow(type, blocks: cols / type.format.blockSize) }
        try bytes.withUnsafeBytes { raw in
            let stored = WeightMatrix(type: type, data: raw.baseAddress!, rows: rows, cols: cols)
            try body(stored, stored.interleavedCopy())
        }
    }

    @Test(arguments: types)
    func rowsComeBackAsStored(_ type: GGMLType) {
        Self.withMatrices(type) { stored, interleaved in
            #expect(interleaved.interleaved && !stored.interleaved && interleaved.rowBytes == stored.rowBytes)
            var a = [Float](repeating: 0, count: Self.cols), b = a
            for r in 0..<Self.rows {
                let same = stored.withStoredRow(r) { s in
                    interleaved.withStoredRow(r) { i in memcmp(s, i, stored.rowBytes) == 0 }
                }
                stored.dequantizeRow(r, into: &a)
                interleaved.dequantizeRow(r, into: &b)
                #expect(same && a.map(\.bitPattern) == b.map(\.bitPattern), "row \(r)")
            }
            for (r0, r1) in [(0, Self.rows), (5, 37), (16, 48)] {   // several rows at once: the same values
                var many = [Float](repeating: .nan, count: (r1 - r0) * Self.cols), one = many
                interleaved.dequantizeRows(r0, r1, into: &many)
                for r in r0..<r1 { stored.dequantizeRow(r, into: &one[(r - r0) * Self.cols]) }
                #expect(many.map(\.bitPattern) == one.map(\.bitPattern), "rows \(r0)..<\(r1)")
            }
        }
    }

    /// Every plan a product can take: rows (1, 3, 8 generated tokens, 9 for AVX-512's k-quants; 4 prompt tokens),
    /// panels (9 or 17 generated, 33 prompt tokens), and with exact activations the f32 dots (2 tokens) and the
    /// dequantized sgemm (6).
    @Test(arguments: types, paths)
    func everyPlanGivesTheStoredMatrixBits(_ type: GGMLType, _ path: KernelPath) {
        let cases: [(tokens: Int, generation: Bool, exact: Bool)] = [
            (1, true, false), (3, true, false), (8, true, false), (4, false, false), (9, true, false), (17, true, false), (33, false, false),
            (2, false, true), (6, false, true),
        ]
        Self.withMatrices(type) { stored, interleaved in
            for c in cases {
                let input = (0..<(c.tokens * Self.cols)).map { _ in TestRandom.float(in: -2...2) }
                func product(_ w: WeightMatrix) -> [UInt32] {
                    var out = [Float](repeating: .nan, count: c.tokens * Self.rows)
                    MatMul(threads: 2, path: path, exactActivations: c.exact)
                        .multiply(w, input, &out, n: c.tokens, generationStep: c.generation)
                    return out.map(\.bitPattern)
                }
                let want = product(stored), got = product(interleaved)
                #expect(!want.contains(Float.nan.bitPattern))
                #expect(got == want, "\(type), \(path), \(c): \(zip(got, want).filter { $0 != $1 }.count) results differ")
            }
        }
    }

    /// Q8_0 interleaved takes 16-bit activations in prompts and large generation steps where the path has them
    /// (AVX-512), on matrices of 1024 rows or more; the stored rows take the exact sgemm. Each result is within the
    /// 16-bit rounding of the exact one: Σ|w|·max|x|/32767 (plus f32 rounding).
    @Test(arguments: paths)
    func sixteenBitProductsAreWithinTheirRoundingOfExact(_ path: KernelPath) {
        let rows = 1024, cols = 512
        let bytes = (0..<rows).flatMap { _ in DotKernelTests.randomRow(.q8_0, blocks: cols / 32) }
        bytes.withUnsafeBytes { raw in
            let stored = WeightMatrix(type: .q8_0, data: raw.baseAddress!, rows: rows, cols: cols)
            let interleaved = stored.interleavedCopy()
            let l1 = (0..<rows).map { r in
                var w = [Float](repeating: 0, count: cols)
                stored.dequantizeRow(r, into: &w)
                return w.map(abs).reduce(0, +)
            }
            for (tokens, generation) in [(33, false), (40, true)] {
                let plan = MatMul.plan(.q8_0, rows: rows, tokens: tokens, generationStep: generation, exactActivations: false,
                                       path: path)
                #expect(plan == (path == .avx512 ? .int16Rows : .dequantizedSgemm))
                let input = (0..<(tokens * cols)).map { i in TestRandom.float(in: -2...2) * (i % 101 == 0 ? 40 : 1) }
                func product(_ w: WeightMatrix) -> [Float] {
                    var out = [Float](repeating: .nan, count: tokens * rows)
                    MatMul(threads: 2, path: path).multiply(w, input, &out, n: tokens, generationStep: generation)
                    return out
                }
                let exact = product(stored), got = product(interleaved)
                var far = 0, differ = 0
                for t in 0..<tokens {
                    let xmax = input[(t * cols)..<((t + 1) * cols)].map(abs).max()!
                    for r in 0..<rows {
                        let e = abs(got[t * rows + r] - exact[t * rows + r])
                        if e > l1[r] * xmax / 32767 + 1e-4 * abs(exact[t * rows + r]) + 1e-5 { far += 1 }
                        if e != 0 { differ += 1 }
                    }
                }
                #expect(far == 0, "\(path), \(tokens) tokens: \(far) results beyond 16-bit rounding of exact")
                #expect((differ > 0) == (plan == .int16Rows), "\(path): \(differ) results differ from the exact ones")
            }
        }
    }

    /// F16 and BF16 matrices (no interleaved layout) come back from `interleavedForKernels` as a copy of the same bytes
    /// in memory of their own (2 MiB pages), not interleaved, every source byte reported copied, and not copied twice.
    @Test(arguments: [GGMLType.f16, .bf16])
    func halfMatricesAreCopiedAsStored(_ type: GGMLType) {
        let bytes: [UInt8] = (0..<(Self.rows * Self.cols)).flatMap { i -> [UInt8] in
            let v = Float(i % 97) / 31 - 1.5
            let bits = type == .f16 ? Float16(v).bitPattern : UInt16(v.bitPattern >> 16)
            return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        }
        #expect(WeightMatrix.copiesAsStored(type) && !WeightMatrix.interleaves(type))
        #expect(WeightMatrix.interleavesByDefault && WeightMatrix.hugePagesByDefault)
        bytes.withUnsafeBytes { raw in
            let stored = WeightMatrix(type: type, data: raw.baseAddress!, rows: Self.rows, cols: Self.cols)
            var reported = 0
            let copy = stored.interleavedForKernels { reported += $0.count }
            #expect(copy.isCopy && !copy.interleaved && !stored.isCopy && copy.data != stored.data)
            #expect(memcmp(copy.data, stored.data, bytes.count) == 0 && reported == bytes.count)
            #expect(copy.interleavedForKernels().data == copy.data)
        }
    }

    @Test(arguments: types)
    func onlyPathsWithTheirOwnKernelsInterleave(_ type: GGMLType) {
        Self.withMatrices(type) { stored, _ in
            #expect(!stored.interleavedForKernels(path: .generic).interleaved)
            // The 256-bit paths have their own products for generation on every interleaved type but Q8_0.
            let narrow = type != .q8_0 && KernelPath.avx2.isSupported
            #expect(stored.interleavedForKernels(path: .avx2).interleaved == narrow)
            #expect(stored.interleavedForKernels(path: .avx512).interleaved == KernelPath.avx512.isSupported)
        }
        #expect(!WeightMatrix.interleaves(.f16) && !WeightMatrix.interleaves(.f32))
    }
}
