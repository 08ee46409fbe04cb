#if canImport(Glibc)
import Glibc
#endif

/// AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay decoupled from the
/// gradient, `θ ← θ − lr·(m̂/(√v̂ + ε) + λ·θ)`. Its state shares the parameters' flat layout.
public final class AdamW {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    public let count: Int
    /// Steps taken.
    public private(set) var step = 0
    public let m: UnsafeMutablePointer<Float>   // [count] first moment
    public let v: UnsafeMutablePointer<Float>   // [count] second moment

    public init(count: Int, weightDecay: Float = 0) {
        self.count = count
        self.weightDecay = weightDecay
        m = .allocate(capacity: max(count, 1))
        v = .allocate(capacity: max(count, 1))
        m.initialize(repeating: 0, count: max(count, 1))
        v.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One update of `parameters` with `gradients` at learning rate `lr`.
    public func update(_ parameters: UnsafeMutablePointer<Float>, _ gradients: UnsafePointer<Float>, lr: Float) {
        step += 1
        let c1 = 1 - powf(beta1, Float(step)), c2 = 1 - powf(beta2, Float(step))
        for i in 0..<count {
            let g = gradients[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            let mHat = m[i] / c1, vHat = v[i] / c2
            parameters[i] -= lr * (mHat / (vHat.squareRoot() + epsilon) + weightDecay * parameters[i])
        }
    }

    /// Restores a saved state.
    public func restore(step: Int, m: [Float], v: [Float]) {
        precondition(m.count == count && v.count == count)
        self.step = step
        self.m.update(from: m, count: count)
        self.v.update(from: v, count: count)
    }
}

/// Learning rate by step: linear warm-up from 0, then cosine decay to `minRatio · peak` at `total` steps.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public var peak: Float
    public var warmup: Int
    public var total: Int
    public var minRatio: Float

    public init(peak: Float, warmup: Int, total: Int, minRatio: Float = 0.1) {
        self.peak = peak
        self.warmup = warmup
        self.total = total
        self.minRatio = minRatio
    }

    /// The rate for update number `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmup { return peak * Float(step + 1) / Float(warmup) }
        let span = max(total - warmup, 1)
        let progress = min(Float(step - warmup) / Float(span), 1)
        return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + cosf(.pi * progress)))
    }
}

/// Scales `gradients` (`[count]`) so that their L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
    var sum = 0.0
    for i in 0..<count { sum += Double(gradients[i]) * Double(gradients[i]) }
    let norm = Float(sum.squareRoot())
    if maxNorm > 0, norm > maxNorm {
        let s = maxNorm / (norm + 1e-6)
        for i in 0..<count { gradients[i] *= s }
    }
    return norm
}
