import CKernels
import CKernelsEmulated
import Foundation
import Testing
import TestSupport

/// BF16 weights times activations rounded to bf16 (BF16 prompts on AVX512-BF16): the rounding against its definition
/// (the nearer of the two neighbouring bf16 values, ties to the even one, worked out in Double), and the products of
/// the plain twin, the SIMDe build of AVX-512's kernel and the native one (where the CPU has AVX512-BF16) against the
/// exact sum in Double of the same bf16 operands, within the rounding of an f32 sum of that many terms. Sizes leave
/// tails: 70 rows (a chunk of 64 and a partial group of sixteen), a range from row 2, 13 tokens (two tiles of six and
/// one), 90 columns.
@Suite struct Bf16ProductTests {
    static let rows = 70, cols = 90

    /// The bf16 value of `bits` in Double (bits 0x7F80: infinity).
    static func value(_ bits: UInt16) -> Double { Double(Float(bitPattern: UInt32(bits) << 16)) }

    /// The definition: of the bf16 values below and above x (truncated, and one step further from zero), the nearer;
    /// on a tie the one whose last bit is 0. Beyond the largest finite bf16 the step up is infinity, which counts as
    /// 2^128 (IEEE's rounding of an overflow).
    static func nearest(_ x: Float) -> UInt16 {
        if x.isInfinite { return UInt16(x.bitPattern >> 16) }
        let low = UInt16(x.bitPattern >> 16), high = low &+ 1
        let lowValue = value(low), highValue = high & 0x7FFF == 0x7F80 ? Double(x.sign == .minus ? -1 : 1) * 0x1p128
            : value(high)
        let below = abs(Double(x) - lowValue), above = abs(highValue - Double(x))
        return below < above || (below == above && low & 1 == 0) ? low : high
    }

    @Test func roundingIsToNearestEven() {
        var rng = SplitMix(seed: TestRandom.seed)
        var inputs: [Float] = [0, -0, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, Float(bitPattern: 0x3F80_8000),
                               Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_7FFF), Float(bitPattern: 0x7F7F_8000)]
        for _ in 0..<20000 {   // random bit patterns (every exponent), and values near a tie
            let bits = UInt32.random(in: 0...UInt32.max, using: &rng)
            inputs.append(Float(bitPattern: bits))
            inputs.append(Float(bitPattern: bits & 0xFFFF_0000 | 0x8000 | UInt32.random(in: 0...1, using: &rng)))
        }
        var out = [UInt16](repeating: 0, count: inputs.count)
        vpg_round_bf16(inputs, &out, Int64(inputs.count))
        var wrong = 0
        for (x, b) in zip(inputs, out) {
            if x.isNaN {
                if !Float(bitPattern: UInt32(b) << 16).isNaN { wrong += 1 }
            } else if b != Self.nearest(x) {
                wrong += 1
            }
        }
        #expect(wrong == 0, "\(wrong) of \(inputs.count) values rounded otherwise than to the nearest bf16")
    }

    /// (label, kernel) of every build of the product this machine can run.
    static var kernels: [(String, vpg_matmul_panels_fn)] {
        var all: [(String, vpg_matmul_panels_fn)] = [("generic", vpg_matmul_bf16_bf16_generic)]
        #if arch(x86_64)
        all.append(("avx512 (emulated)", vpg_matmul_bf16_bf16_avx512_emu))
        #endif
        if let native = vpg_bf16_products_kernel(Int32(VPG_PATH_AVX512.rawValue)) { all.append(("avx512 (native)", native)) }
        return all
    }

    @Test func productsAreWithinTheirRoundingOfExact() throws {
        var rng = SplitMix(seed: TestRandom.seed)
        let tokens = 13, r0 = 2
        let w = (0..<(Self.rows * Self.cols)).map { _ in Self.nearest(Float.random(in: -1...1, using: &rng)) }
        let x = (0..<(tokens * Self.cols)).map { i in   // token 1 all zeros; an outlier now and then
            i / Self.cols == 1 ? 0 : Float.random(in: -3...3, using: &rng) * (i % 37 == 0 ? 40 : 1)
        }
        var xb = [UInt16](repeating: 0, count: x.count)
        vpg_round_bf16(x, &xb, Int64(x.count))
        for (label, kernel) in Self.kernels {
            var y = [Float](repeating: .nan, count: tokens * Self.rows)
            w.withUnsafeBytes { wb in
                xb.withUnsafeBytes { xq in
                    kernel(wb.baseAddress!, Int64(Self.cols * 2), xq.baseAddress!, Int64(Self.cols * 2), Int64(tokens), &y,
                           Int64(Self.rows), Int64(r0), Int64(Self.rows), Int64(Self.cols))
                }
            }
            var worst = 0.0
            for t in 0..<tokens {
                for r in r0..<Self.rows {
                    var exact = 0.0, magnitude = 0.0
                    for k in 0..<Self.cols {
                        let p = Self.value(w[r * Self.cols + k]) * Self.value(xb[t * Self.cols + k])
                        exact += p
                        magnitude += abs(p)
                    }
                    let got = Double(y[t * Self.rows + r - r0])
                    // An f32 sum of n exact products: within n·2⁻²⁴ of the sum of their magnitudes.
                    let bound = Double(Self.cols) * 0x1p-24 * magnitude
                    worst = max(worst, abs(got - exact) / max(bound, .leastNormalMagnitude))
                    #expect(abs(got - exact) <= bound, "\(label): token \(t), row \(r): \(got) against \(exact)")
                }
            }
            let past = (0..<tokens).flatMap { t in (Self.rows - r0)..<Self.rows }.count
            #expect((0..<tokens).allSatisfy { t in y[(t * Self.rows + Self.rows - r0)..<((t + 1) * Self.rows)].allSatisfy(\.isNaN) },
                    "\(label) wrote outside rows r0..<r1 (\(past) places)")
            #expect(worst < 1, "\(label): worst error \(worst) of the bound")
        }
    }
}
