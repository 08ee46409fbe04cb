import Foundation
import Kernels
import Qwen2
import Testing
import TestSupport
@testable import Training

/// Every backward op against central finite differences of an independent Double forward.
@Suite struct GradientCheckTests {
    /// A fixed pseudo-random stream in [−1, 1).
    struct Values {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        mutating func array(_ n: Int, scale: Double = 1) -> [Double] { (0..<n).map { _ in scale * next() } }
    }

    /// Central difference of `f` along coordinate i of x.
    static func finiteDifference(_ x: [Double], _ i: Int, h: Double = 1e-5, _ f: ([Double]) -> Double) -> Double {
        var p = x, m = x
        p[i] += h
        m[i] -= h
        return (f(p) - f(m)) / (2 * h)
    }

    static func expectClose(_ analytic: [Float], _ numeric: [Double], tolerance: Double, _ what: String) {
        let scale = max(numeric.map(abs).max() ?? 0, 1e-6)
        let worst = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst / scale < tolerance, "\(what): max |analytic − finite difference| = \(worst), scale \(scale)")
    }

    @Test func rmsNormBackward() {
        var v = Values(state: 3)
        let n = 3, dim = 17
        let x = v.array(n * dim, scale: 2), w = v.array(dim).map { 1 + 0.3 * $0 }, dy = v.array(n * dim)
        func f(_ x: [Double]) -> Double {
            (0..<n).reduce(0.0) { acc, t in
                let y = DoubleReference.rmsNorm(Array(x[t * dim..<(t + 1) * dim]), w, eps: 1e-6)
                return acc + zip(y, dy[t * dim..<(t + 1) * dim]).reduce(0) { $0 + $1.0 * $1.1 }
            }
        }
        var dx = [Float](repeating: 0, count: n * dim)
        let xf = x.map(Float.init), wf = w.map(Float.init), dyf = dy.map(Float.init)
        BackwardOps.rmsNorm(xf, wf, dyf, &dx, n: n, dim: dim, eps: 1e-6)
        Self.expectClose(dx, (0..<n * dim).map { Self.finiteDifference(x, $0, f) }, tolerance: 1e-4, "rmsNorm")
    }

    @Test func swigluBackward() {
        var v = Values(state: 5)
        let count = 40
        let g = v.array(count, scale: 4), u = v.array(count, scale: 2), dh = v.array(count)
        func f(_ gu: [Double]) -> Double {
            (0..<count).reduce(0.0) { $0 + DoubleReference.silu(gu[$1]) * gu[count + $1] * dh[$1] }
        }
        var dg = [Float](repeating: 0, count: count), du = dg
        BackwardOps.swiglu(g.map(Float.init), u.map(Float.init), dh.map(Float.init), &dg, &du, count: count)
        let numeric = (0..<2 * count).map { Self.finiteDifference(g + u, $0, f) }
        Self.expectClose(dg + du, numeric, tolerance: 1e-4, "swiglu")
    }

    @Test func ropeBackward() {
        var v = Values(state: 7)
        let n = 5, heads = 3, hd = 8, base = 10000.0
        let x = v.array(n * heads * hd), dy = v.array(n * heads * hd)
        func f(_ x: [Double]) -> Double {
            var s = 0.0
            for t in 0..<n {
                for h in 0..<heads {
                    let o = (t * heads + h) * hd
                    let y = DoubleReference.rope(Array(x[o..<o + hd]), pos: t + 3, base: base)
                    for d in 0..<hd { s += y[d] * dy[o + d] }
                }
            }
            return s
        }
        var dx = dy.map(Float.init)
        let positions = (0..<n).map { Int32($0 + 3) }
        var negated = [Int32](repeating: 0, count: n)
        BackwardOps.rope(&dx, positions: positions, negated: &negated, n: n, heads: heads, headDim: hd, base: Float(base))
        Self.expectClose(dx, (0..<x.count).map { Self.finiteDifference(x, $0, f) }, tolerance: 1e-4, "rope")
    }

    /// Row blocks of 4 split the 6 rows into a whole and a partial block; 128 keeps them in one.
    @Test(arguments: [4, 128])
    func attentionBackward(_ rowBlock: Int) {
        var v = Values(state: 11)
        let n = 6, heads = 4, kvHeads = 2, hd = 4
        let qd = heads * hd, kd = kvHeads * hd
        let q = v.array(n * qd), k = v.array(n * kd), vv = v.array(n * kd), dout = v.array(n * qd)
        func rows(_ a: ArraySlice<Double>, _ w: Int) -> [[Double]] { (0..<n).map { Array(a[a.startIndex + $0 * w..<a.startIndex + ($0 + 1) * w]) } }
        func f(_ all: [Double]) -> Double {
            let qs = rows(all[0..<n * qd], qd)
            let ks = rows(all[n * qd..<n * (qd + kd)], kd)
            let vs = rows(all[n * (qd + kd)..<all.count], kd)
            let o = DoubleReference.attention(q: qs, k: ks, v: vs, heads: heads, kvHeads: kvHeads, hd: hd)
            var s = 0.0
            for t in 0..<n { for j in 0..<qd { s += o[t][j] * dout[t * qd + j] } }
            return s
        }
        let attention = CausalAttention(heads: heads, kvHeads: kvHeads, headDim: hd, threads: 2, rowBlock: rowBlock)
        let qf = q.map(Float.init), kf = k.map(Float.init), vf = vv.map(Float.init)
        var probs = [Float](repeating: 0, count: heads * n * n), out = [Float](repeating: 0, count: n * qd)
        attention.forward(q: qf, k: kf, v: vf, probs: &probs, out: &out, n: n)
        let reference = DoubleReference.attention(q: rows(q[...], qd), k: rows(k[...], kd), v: rows(vv[...], kd),
                                                  heads: heads, kvHeads: kvHeads, hd: hd).flatMap { $0 }
        Self.expectClose(out, reference, tolerance: 1e-5, "attention forward")
        var dq = [Float](repeating: .nan, count: n * qd), dk = [Float](repeating: .nan, count: n * kd), dv = dk
        var scratch = [Float](repeating: .nan, count: 2 * n * n)
        attention.backward(q: qf, k: kf, v: vf, probs: probs, dout: dout.map(Float.init), dq: &dq, dk: &dk, dv: &dv,
                           scratch: &scratch, n: n)
        let all = q + k + vv
        Self.expectClose(dq + dk + dv, (0..<all.count).map { Self.finiteDifference(all, $0, f) }, tolerance: 1e-4, "attention")
    }

    @Test func crossEntropyGradient() {
        var v = Values(state: 13)
        let vocab = 23
        let logits = v.array(vocab, scale: 5)
        let loss = CrossEntropyLoss(tokens: [4, 17], weight: 0.5)
        var grad = logits.map(Float.init)
        let value = grad.withUnsafeMutableBufferPointer { loss.lossAndGradient(0, logits: $0.baseAddress!, vocab: vocab) }
        let f = { (x: [Double]) in 0.5 * (DoubleReference.logSumExp(x) - x[17]) }
        #expect(abs(value - f(logits)) < 1e-5)
        Self.expectClose(grad, (0..<vocab).map { Self.finiteDifference(logits, $0, f) }, tolerance: 1e-5, "cross-entropy")
    }
}
