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

    @Test(arguments: types)
    func onlyPathsWithTheirOwnKernelsInterleave(_ type: GGMLType) {
        Self.withMatrices(type) { stored, _ in
            #expect(!stored.interleavedForKernels(path: .generic).interleaved)
            #expect(!stored.interleavedForKernels(path: .avx2).interleaved)
            #expect(stored.interleavedForKernels(path: .avx512).interleaved == KernelPath.avx512.isSupported)
        }
        #expect(!WeightMatrix.interleaves(.f16) && !WeightMatrix.interleaves(.f32))
    }
}
