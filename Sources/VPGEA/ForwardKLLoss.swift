#if canImport(Glibc)
import Glibc
#endif
import Training

/// Captures the log-probabilities at `positions` (a no-gradient forward of the teacher view).
public final class LogProbabilityCapture: TokenLoss, @unchecked Sendable {
    public let positions: [Int]
    public let vocab: Int
    public let rows: UnsafeMutablePointer<Float>   // [positions.count, vocab] log-probabilities

    public init(positions: [Int], vocab: Int) {
        self.positions = positions
        self.vocab = vocab
        rows = .allocate(capacity: max(positions.count * vocab, 1))
    }
    deinit { rows.deallocate() }

    public func lossAndGradient(_ i: Int, logits: UnsafeMutablePointer<Float>, vocab: Int) -> Double {
        CrossEntropyLoss.logSoftmaxInPlace(logits, vocab)
        (rows + i * vocab).update(from: logits, count: vocab)
        return 0
    }
}

/// weight · Σ_t KL(p_teacher,t ‖ π_t) over the positions (forward KL, teacher fixed): gradient on the student's
/// logits is weight · (π_t − p_teacher,t).
public struct ForwardKLLoss: TokenLoss {
    public let positions: [Int]
    public let teacher: LogProbabilityCapture
    public let weight: Float

    public init(positions: [Int], teacher: LogProbabilityCapture, weight: Float) {
        precondition(positions.count == teacher.positions.count)
        self.positions = positions
        self.teacher = teacher
        self.weight = weight
    }

    public func lossAndGradient(_ i: Int, logits: UnsafeMutablePointer<Float>, vocab: Int) -> Double {
        CrossEntropyLoss.logSoftmaxInPlace(logits, vocab)
        let t = teacher.rows + i * vocab
        var kl = 0.0
        for j in 0..<vocab {
            let p = expf(t[j]), pi = expf(logits[j])
            if p > 0 { kl += Double(p) * Double(t[j] - logits[j]) }
            logits[j] = weight * (pi - p)
        }
        return kl * Double(weight)
    }
}
