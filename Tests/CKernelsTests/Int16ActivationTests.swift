import CKernels
import CKernelsEmulated
import Foundation
import Testing
import TestSupport

/// Q8_0 rows interleaved by sixteen times activations quantized to 16 bits (vpg_q16_32): AVX-512's quantizer and
/// product (natively where the CPU has it, through SIMDe on any x86-64 CPU) give their plain twins' bytes and bits,
/// and the twin stays within the 16-bit rounding's bound of the exact product, computed in Double from the stored
/// rows: a bound 256 times tighter than 8 bits' (the 8-bit row kernel, measured the same way, does not meet it).
@Suite struct Int16ActivationTests {
    static let rows = InterleavedKQuantTests.rows, cols = InterleavedKQuantTests.cols
    static let stride = cols / 32 * MemoryLayout<vpg_q16_32>.stride
    /// (label, table) of each AVX-512 build this machine can run.
    static var avx512: [(String, UnsafePointer<vpg_kernel_table>)] {
        let path = Int32(VPG_PATH_AVX512.rawValue)
        var all: [(String, UnsafePointer<vpg_kernel_table>)] = []
        if let emulated = vpg_emulated_kernels(path) { all.append(("avx512 (emulated)", emulated)) }
        if vpg_path_supported(path) != 0 { all.append(("avx512 (native)", vpg_kernels(path)!)) }
        return all
    }

    /// `tokens` activation rows: the first at the extremes, one block of the second all zeros, the rest uniform.
    static func inputs(_ tokens: Int, _ rng: inout SplitMix) -> [Float] {
        (0..<(tokens * cols)).map { i in
            let t = i / cols, c = i % cols
            if t == 0 { return c % 3 == 0 ? -4 : 4 }
            if t == 1 && c < 32 { return 0 }
            return Float.random(in: -3...3, using: &rng) * (c % 97 == 0 ? 50 : 1)   // an outlier now and then
        }
    }

    static func quantize(_ quantizer: vpg_quantize_fn, _ x: [Float], tokens: Int, stride: Int = stride) -> [UInt8] {
        KernelTableTests.run(tokens * stride) { out in
            for t in 0..<tokens { x.withUnsafeBufferPointer { quantizer($0.baseAddress! + t * cols, out + t * stride, Int64(cols)) } }
        }
    }

    static func product(_ kernel: vpg_matmul_panels_fn, _ w: [UInt8], _ xq: [UInt8], tokens: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * rows)
        w.withUnsafeBytes { w in
            xq.withUnsafeBytes { q in
                kernel(w.baseAddress!, Int64(InterleavedKQuantTests.rowBytes(8)), q.baseAddress!, Int64(stride),
                       Int64(tokens), &y, Int64(rows), 16, Int64(rows), Int64(cols))
            }
        }
        return y
    }

    @Test func theQuantizersGiveTheSameBytes() throws {
        var rng = SplitMix(seed: TestRandom.seed)
        let x = Self.inputs(5, &rng)
        let want = Self.quantize(vpg_quantize_q16_32_generic, x, tokens: 5)
        for (label, table) in Self.avx512 {
            #expect(Self.quantize(try #require(table.pointee.quantize_q16), x, tokens: 5) == want, "\(label)")
        }
        // The plain quantizer against the definition: |x − d·q| ≤ d/2, |q| ≤ 32767 with the block's maximum at it, the sum.
        want.withUnsafeBytes { raw in
            for b in 0..<(5 * Self.cols / 32) {
                let block = raw.load(fromByteOffset: b * MemoryLayout<vpg_q16_32>.stride, as: vpg_q16_32.self)
                let q = withUnsafeBytes(of: block.q) { Array($0.bindMemory(to: Int16.self)) }
                let xs = x[(32 * b)..<(32 * b + 32)], amax = xs.map(abs).max()!
                #expect(block.d == amax / 32767 && Int(block.sum) == q.reduce(0) { $0 + Int($1) })
                for (j, v) in xs.enumerated() {
                    let qj = Float(q[j / 4 * 4 + [0, 2, 1, 3][j % 4]])   // each four: 4c, 4c+2, 4c+1, 4c+3
                    #expect(abs(Double(v) - Double(block.d) * Double(qj)) <= Double(block.d) / 2 * 1.01, "block \(b), activation \(j)")
                }
                if amax > 0 { #expect(q.map { abs(Int($0)) }.max() == 32767) }
            }
        }
    }

    @Test(arguments: [1, 3, 8, 9, 17])
    func productsAreTheTwinsBits(_ tokens: Int) throws {
        var rng = SplitMix(seed: TestRandom.seed &+ UInt64(tokens))
        let w = InterleavedKQuantTests.interleave(8, InterleavedKQuantTests.matrix(8, &rng))
        let xq = Self.quantize(vpg_quantize_q16_32_generic, Self.inputs(tokens, &rng), tokens: tokens)
        let want = Self.product(vpg_matmul_q8_0_x16_q16_generic, w, xq, tokens: tokens)
        let written = (0..<tokens).flatMap { t in want[(t * Self.rows)..<(t * Self.rows + Self.rows - 16)] }
        #expect(!written.contains { $0.isNaN } && want[Self.rows - 1].isNaN)   // rows 16..<64 go to y[0..<48]
        for (label, table) in Self.avx512 {
            let got = Self.product(try #require(table.pointee.q8_0_x16_q16), w, xq, tokens: tokens)
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(label), \(tokens) tokens")
        }
    }

    /// Against the exact product in Double (from the stored rows: w = d·q): the twin's error stays inside Σ|w|·d_x/2
    /// per block plus f32 rounding; the plain 8-bit row kernel on the same inputs goes well past that bound.
    @Test func theTwinIsWithinSixteenBitRoundingOfExact() throws {
        var rng = SplitMix(seed: TestRandom.seed &+ 99)
        let tokens = 6, stored = InterleavedKQuantTests.matrix(8, &rng), rowBytes = InterleavedKQuantTests.rowBytes(8)
        let x = Self.inputs(tokens, &rng)
        let xq = Self.quantize(vpg_quantize_q16_32_generic, x, tokens: tokens)
        let got = Self.product(vpg_matmul_q8_0_x16_q16_generic, InterleavedKQuantTests.interleave(8, stored), xq, tokens: tokens)
        let stride8 = InterleavedKQuantTests.stride(8), generic = KernelTableTests.generic.pointee.typeRow(8)
        let xq8 = Self.quantize(try #require(generic.quantize), x, tokens: tokens, stride: stride8)
        let eight = InterleavedKQuantTests.run(nil, rowKernel: generic.dotq_rows, stored, xq8, tokens: tokens,
                                               rowBytes: rowBytes, stride: stride8).map { Float(bitPattern: $0) }
        var worst16 = 0.0, worst8 = 0.0   // error / bound
        for t in 0..<tokens {
            for r in 16..<Self.rows {
                var exact = 0.0, bound = 0.0
                for b in 0..<(Self.cols / 32) {
                    let blk = r * rowBytes + 34 * b
                    let d = Double(Float(Float16(bitPattern: UInt16(stored[blk]) | UInt16(stored[blk + 1]) << 8)))
                    let xs = x[(t * Self.cols + 32 * b)..<(t * Self.cols + 32 * b + 32)]
                    let dx = Double(xs.map(abs).max()! / 32767)
                    for (j, v) in xs.enumerated() {
                        let w = d * Double(Int8(bitPattern: stored[blk + 2 + j]))
                        exact += w * Double(v)
                        bound += abs(w) * (dx / 2 + 1e-6 * abs(Double(v)))
                    }
                }
                let y = t * Self.rows + r - 16
                worst16 = max(worst16, abs(Double(got[y]) - exact) / bound)
                worst8 = max(worst8, abs(Double(eight[y]) - exact) / bound)
            }
        }
        print("error / the 16-bit bound, worst: 16-bit activations \(worst16), 8-bit \(worst8)")
        #expect(worst16 > 0 && worst16 <= 1)
        #expect(worst8 > 10)
    }
}
