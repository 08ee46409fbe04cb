import CKernels
import Foundation
import Kernels
import Quants
import Testing
import TestSupport

/// BF16 products through MatMul on every path, with bf16 products asked for and not: where the plan is
/// `.bf16Products` (AVX-512 with AVX512-BF16, asked for) the results are the exact products, in Double, of the weights
/// and the activations rounded to the nearest bf16 (within an f32 sum's rounding), and visibly not those of the
/// unrounded activations; elsewhere the unrounded ones.
@Suite(.seededRandom) struct Bf16PromptTests {
    static let rows = 96, cols = 64

    /// The nearest bf16 of x, by comparing its two neighbours in Double (ties: the even one), as a Double.
    static func nearest(_ x: Float) -> Double {
        let low = Float(bitPattern: x.bitPattern & 0xFFFF_0000), high = Float(bitPattern: (x.bitPattern | 0xFFFF) &+ 1)
        let below = abs(Double(x) - Double(low)), above = abs(Double(high) - Double(x))
        return Double(below < above || (below == above && (x.bitPattern >> 16) & 1 == 0) ? low : high)
    }

    @Test(arguments: KernelPath.allCases)
    func promptsRoundTheirActivationsWhereTheCPUHasBF16Products(_ path: KernelPath) {
        let weights: [UInt16] = (0..<(Self.rows * Self.cols)).map { _ in
            UInt16(truncatingIfNeeded: TestRandom.float(in: -1...1).bitPattern >> 16)
        }
        let w = weights.map { Double(Float(bitPattern: UInt32($0) << 16)) }
        let cases = [(5, false), (13, false), (9, true)].flatMap { c in [true, false].map { (c.0, c.1, $0) } }
        for (tokens, generation, asked) in cases {
            let plan = MatMul.plan(.bf16, rows: Self.rows, tokens: tokens, generationStep: generation,
                                   exactActivations: false, path: path, bf16Products: asked)
            let input = (0..<(tokens * Self.cols)).map { i in TestRandom.float(in: -2...2) * (i % 29 == 0 ? 30 : 1) }
            var out = [Float](repeating: .nan, count: tokens * Self.rows)
            weights.withUnsafeBytes { raw in
                let matrix = WeightMatrix(type: .bf16, data: raw.baseAddress!, rows: Self.rows, cols: Self.cols)
                MatMul(threads: 2, path: path, bf16Products: asked).multiply(matrix, input, &out, n: tokens, generationStep: generation)
            }
            let rounds = plan == .bf16Products
            var beyond = 0, unroundedBeyond = 0
            for t in 0..<tokens {
                for r in 0..<Self.rows {
                    var exact = 0.0, unrounded = 0.0, magnitude = 0.0
                    for k in 0..<Self.cols {
                        let x = input[t * Self.cols + k], wk = w[r * Self.cols + k]
                        exact += wk * (rounds ? Self.nearest(x) : Double(x))
                        unrounded += wk * Double(x)
                        magnitude += abs(wk * Double(x))
                    }
                    let bound = Double(Self.cols) * 0x1p-24 * magnitude, got = Double(out[t * Self.rows + r])
                    if abs(got - exact) > bound { beyond += 1 }
                    if abs(got - unrounded) > bound { unroundedBeyond += 1 }
                }
            }
            let label = "\(path), \(tokens) tokens\(generation ? " (generation step)" : ""), asked \(asked), \(plan)"
            #expect(beyond == 0, "\(label): \(beyond) results beyond an f32 sum's rounding")
            #expect((unroundedBeyond > tokens * Self.rows / 2) == rounds,
                    "\(label): \(unroundedBeyond) results beyond the rounding of the unrounded activations' products")
        }
    }
}
