import CKernels
import Foundation
import Kernels
import Testing
import TestSupport

/// The softmax kernel (`x ← exp(x − max)`, Σ in Double) on every path: the same bits on all of them, and each
/// value against Double's exp.
@Suite(.seededRandom) struct SoftmaxKernelTests {
    @Test(arguments: [1, 7, 8, 29, 4096 + 5])
    func everyPathAgreesAndMatchesDouble(_ count: Int) throws {
        var input = (0..<count).map { _ in TestRandom.float(in: -40...25) }
        if count > 8 { input[3] = -.infinity; input[5] = -120 }   // masked logits and underflow: ~0, never NaN
        var outputs: [([Float], Float, Double)] = []
        for path in DotKernelTests.paths {
            let kernel = try #require(vpg_exp_shifted_kernel(path))
            var x = input, m: Float = 0
            let sum = kernel(&x, Int64(count), &m)
            outputs.append((x, m, sum))
        }
        for (x, m, sum) in outputs {
            #expect(m == input.max()!)
            var exact = 0.0
            for (i, v) in input.enumerated() {
                let e = Foundation.exp(Double(v - m))   // the argument rounded to f32, as the kernel (and expf) sees it
                exact += e
                // Within 2 ulp of the exact value (values below e^−87 are flushed to ~0).
                let tolerance = e < 1e-37 ? 2e-38 : 2 * Double(Float(e).ulp)
                #expect(abs(Double(x[i]) - e) <= tolerance, "x = \(v) − \(m): \(x[i]) against \(e)")
            }
            #expect(abs(sum - exact) <= 3e-7 * exact, "sum \(sum) against \(exact)")
            #expect(abs(sum - x.reduce(0.0) { $0 + Double($1) }) <= 1e-12 * sum, "the sum is of the values written")
        }
        for other in outputs.dropFirst() {
            #expect(other.0.map(\.bitPattern) == outputs[0].0.map(\.bitPattern) && other.2 == outputs[0].2)
        }
    }
}
