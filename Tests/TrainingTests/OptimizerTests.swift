import Foundation
import Testing
@testable import Training

@Suite struct OptimizerTests {
    /// AdamW as written in Loshchilov & Hutter (Algorithm 2, with Adam's bias correction), in Double.
    @Test func adamWFollowsTheAlgorithm() {
        let count = 5, lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8
        var theta: [Double] = [0.5, -1, 2, 0, 0.25], m = [Double](repeating: 0, count: count), v = m
        var params = theta.map(Float.init)
        let optimizer = AdamW(count: count, weightDecay: Float(wd))
        for step in 1...6 {
            let g = (0..<count).map { sin(Double($0 * 3 + step)) }
            for i in 0..<count {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(b1, Double(step))), vHat = v[i] / (1 - pow(b2, Double(step)))
                theta[i] -= lr * (mHat / (vHat.squareRoot() + eps) + wd * theta[i])
            }
            optimizer.update(&params, g.map(Float.init), lr: Float(lr))
        }
        for i in 0..<count { #expect(abs(Double(params[i]) - theta[i]) < 1e-5) }
        #expect(optimizer.step == 6)
    }

    @Test func scheduleWarmsUpThenDecays() {
        let s = LearningRateSchedule(peak: 1, warmup: 4, total: 14, minRatio: 0.1)
        #expect(s.rate(at: 0) == 0.25)
        #expect(s.rate(at: 3) == 1)
        #expect(abs(s.rate(at: 9) - 0.55) < 1e-6)    // halfway through the cosine
        #expect(abs(s.rate(at: 14) - 0.1) < 1e-6)
        #expect(abs(s.rate(at: 100) - 0.1) < 1e-6)
        for step in 4..<14 { #expect(s.rate(at: step + 1) <= s.rate(at: step)) }
    }

    @Test func clippingScalesToTheNorm() {
        var g: [Float] = [3, 4]
        let norm = clipGradientNorm(&g, count: 2, maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(g[0] - 0.6) < 1e-5 && abs(g[1] - 0.8) < 1e-5)
        var small: [Float] = [0.3, 0.4]
        clipGradientNorm(&small, count: 2, maxNorm: 1)
        #expect(small == [0.3, 0.4])
    }
}
