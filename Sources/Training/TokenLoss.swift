#if canImport(Glibc)
import Glibc
#endif
import Kernels

/// A loss on the next-token logits of some positions of a sequence.
public protocol TokenLoss {
    /// Positions whose logits enter the loss, in increasing order.
    var positions: [Int] { get }
    /// Receives the logits (`[vocab]`) at `positions[i]`; returns that position's loss term and overwrites
    /// the logits with d(loss)/d(logits).
    func lossAndGradient(_ i: Int, logits: UnsafeMutablePointer<Float>, vocab: Int) -> Double
}

/// Mean next-token cross-entropy on the trained tokens: token t (t ≥ 1) is trained when `trained[t]`, and its
/// term is `logsumexp(logits[t−1]) − logits[t−1][tokens[t]]`, weighted by `weight` (default 1/count: the mean).
public struct CrossEntropyLoss: TokenLoss {
    public let tokens: [Int]
    public let positions: [Int]
    public let weight: Float

    public init(tokens: [Int], trained: [Bool]? = nil, weight: Float? = nil) {
        self.tokens = tokens
        positions = (1..<max(tokens.count, 1)).filter { trained?[$0] ?? true }.map { $0 - 1 }
        self.weight = weight ?? 1 / Float(max(positions.count, 1))
    }

    public func lossAndGradient(_ i: Int, logits: UnsafeMutablePointer<Float>, vocab: Int) -> Double {
        let target = tokens[positions[i] + 1], chosen = logits[target]
        // One pass of exp: logits ← exp(logits − max), then the gradient weight · (p − onehot) by scaling.
        let (m, sum) = Ops.expShifted(logits, count: vocab)
        let nll = Double(m) + log(sum) - Double(chosen)
        let scale = Float(Double(weight) / sum)
        for j in 0..<vocab { logits[j] *= scale }
        logits[target] -= weight
        return nll * Double(weight)
    }

    /// Replaces `x` (`[count]`) with its log-softmax; returns the log-sum-exp (summed in Double).
    @discardableResult
    public static func logSoftmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ count: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<count { m = max(m, x[j]) }
        var sum = 0.0
        for j in 0..<count { sum += Double(expf(x[j] - m)) }
        let lse = m + Float(log(sum))
        for j in 0..<count { x[j] -= lse }
        return lse
    }
}
