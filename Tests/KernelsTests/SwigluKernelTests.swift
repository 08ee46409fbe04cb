import CKernels
import Foundation
import Kernels
import Testing
import TestSupport

/// The SwiGLU kernel (`gate ← gate / (1 + e^−gate) · up`) on every path this CPU has, against two oracles: Double
/// arithmetic, and, on glibc, the same expression written with the C library's expf (the kernel's exp follows its
/// method and table, so the bits must be equal: the models' numbers did not move when the kernel replaced it).
@Suite(.seededRandom) struct SwigluKernelTests {
    /// Gate values over the whole range SwiGLU meets and past it: small, around 0, the 88 boundary where the
    /// kernel takes lanes one by one, overflow and underflow of e^−g, infinities, subnormals, signed zeros, and a gate
    /// whose e^−g is one ulp off libm's unless the reduction is a fused multiply-add (exp_table.h).
    static func gates(_ count: Int) -> [Float] {
        let edges: [Float] = [0, -0.0, 1e-40, -1e-40, 87.99, 88, 88.01, -88, -88.72, -88.73, -89, 103.9, 104, 110,
                              -110, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                              .leastNormalMagnitude, 0.5, -0.5, -0x1.04845ep+5]
        return edges + (0..<(count - edges.count)).map { i in
            i % 3 == 0 ? TestRandom.float(in: -120...120) : TestRandom.float(in: -8...8)
        }
    }

    @Test(arguments: [1, 7, 8, 29, 4096 + 5])
    func everyPathMatchesDoubleAndExpf(_ count: Int) throws {
        let gate = count < 30 ? (0..<count).map { _ in TestRandom.float(in: -10...10) } : Self.gates(count)
        let up = (0..<count).map { _ in TestRandom.float(in: -3...3) }
        for path in DotKernelTests.paths {
            let kernel = try #require(vpg_swiglu_kernel(path))
            var h = gate   // in place, as the models call it
            h.withUnsafeMutableBufferPointer { kernel($0.baseAddress, up, $0.baseAddress, Int64(count)) }
            for i in 0..<count {
                // e^−g rounded to float (as the kernel has it, within its 0.502 ulp), the rest in Double.
                let g = Double(gate[i]), e = Double(Float(Foundation.exp(-g))), want = g / (1 + e) * Double(up[i])
                if want.isNaN {
                    #expect(h[i].isNaN, "path \(path): g = \(gate[i])")   // −∞ / ∞
                } else if Float(want).isInfinite {
                    #expect(h[i] == Float(want), "path \(path): g = \(gate[i]), up = \(up[i]): \(h[i]) against \(want)")
                } else {
                    // Three float roundings after an exp within 0.502 ulp: within 4 ulp of the Double value.
                    let tolerance = 4 * Double(Float(abs(want)).ulp) + Double(Float.leastNonzeroMagnitude)
                    #expect(abs(Double(h[i]) - want) <= tolerance,
                            "path \(path): g = \(gate[i]), up = \(up[i]): \(h[i]) against \(want)")
                }
                if Self.onGlibc {
                    let libm = gate[i] / (1 + expf(-gate[i])) * up[i]
                    #expect(h[i].bitPattern == libm.bitPattern || (h[i].isNaN && libm.isNaN),
                            "path \(path): g = \(gate[i]): \(h[i]) against expf's \(libm)")
                }
            }
        }
    }

    /// The backward against Double (σ and both products) and, on glibc, the same expressions written with expf.
    @Test(arguments: [7, 4096 + 5])
    func backwardMatchesDoubleAndExpf(_ count: Int) throws {
        let gate = count < 30 ? (0..<count).map { _ in TestRandom.float(in: -10...10) } : Self.gates(count)
        let up = (0..<count).map { _ in TestRandom.float(in: -3...3) }
        let dh = (0..<count).map { _ in TestRandom.float(in: -1...1) }
        for path in DotKernelTests.paths {
            let kernel = try #require(vpg_swiglu_backward_kernel(path))
            var dgate = [Float](repeating: .nan, count: count), dup = dgate
            kernel(gate, up, dh, &dgate, &dup, Int64(count))
            for i in 0..<count where gate[i].isFinite {
                let g = Double(gate[i]), s = 1 / (1 + Double(Float(Foundation.exp(-g))))
                // σ's 1 − s cancels for large g: its float rounding is up to an ulp of 1, times |g|.
                let slack = abs(Double(dh[i]) * Double(up[i]) * g) * 1.2e-7 + Double(Float.leastNonzeroMagnitude)
                func check(_ got: Float, _ want: Double, _ name: String) {
                    if Float(want).isInfinite {
                        #expect(got == Float(want), "path \(path) \(name): g = \(gate[i])")
                    } else {
                        let tolerance = 6 * Double(Float(abs(want)).ulp) + slack
                        #expect(abs(Double(got) - want) <= tolerance, "path \(path) \(name): g = \(gate[i]): \(got) against \(want)")
                    }
                }
                check(dup[i], Double(dh[i]) * g * s, "dup")
                check(dgate[i], Double(dh[i]) * Double(up[i]) * s * (1 + g * (1 - s)), "dgate")
                if Self.onGlibc {
                    let gf = gate[i], s = 1 / (1 + expf(-gf))
                    #expect(dup[i].bitPattern == (dh[i] * gf * s).bitPattern, "path \(path): g = \(gf)")
                    #expect(dgate[i].bitPattern == (dh[i] * up[i] * s * (1 + gf * (1 - s))).bitPattern, "path \(path): g = \(gf)")
                }
            }
        }
    }

    /// The kernel's exp is glibc's method (exp_table.h), so on glibc its bits are expf's.
    static let onGlibc: Bool = {
        #if canImport(Glibc)
        return true
        #else
        return false
        #endif
    }()

    /// Every 4099th float (NaNs aside), all exponents of the format: the whole expression's bits against the same
    /// expression written with expf.
    @Test(.enabled(if: onGlibc)) func sweepOfFloatsMatchesExpf() throws {
        var gate: [Float] = []
        var bits: UInt64 = 0
        while bits < 1 << 32 {
            let x = Float(bitPattern: UInt32(bits))
            if !x.isNaN { gate.append(x) }
            bits += 4099
        }
        for path in DotKernelTests.paths {
            var h = [Float](repeating: .nan, count: gate.count)   // into another buffer, as training calls it
            vpg_swiglu_kernel(path)!(gate, [Float](repeating: 1, count: gate.count), &h, Int64(h.count))
            let differ = (0..<gate.count).filter { i in
                let want = gate[i] / (1 + expf(-gate[i]))
                return !(want.isNaN && h[i].isNaN) && want.bitPattern != h[i].bitPattern
            }
            #expect(differ.isEmpty, "path \(path): \(differ.count) of \(gate.count) differ, first g = \(differ.first.map { gate[$0] } ?? 0)")
        }
    }
}
