import Foundation

/// Summaries of a logit row: the k largest entries and log Σ exp.
public enum LogitStats {
    /// The `k` largest logits, largest first; ties go to the lower id (as llama.cpp's greedy pick does).
    public static func top(_ row: ArraySlice<Float>, _ k: Int) -> [(id: Int, logit: Float)] {
        var best: [(id: Int, logit: Float)] = []
        best.reserveCapacity(k + 1)
        for (i, value) in zip(0..., row) {
            if best.count == k, let last = best.last, value <= last.logit { continue }
            var j = best.count
            while j > 0, best[j - 1].logit < value { j -= 1 }
            best.insert((i, value), at: j)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// log Σ exp(row), in Double.
    public static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        let m = Double(row.max() ?? 0)
        return m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
    }

    /// The index of the largest logit (lowest id on ties).
    public static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = 0, bestValue = -Float.infinity
        for (i, v) in zip(0..., row) where v > bestValue {
            best = i
            bestValue = v
        }
        return best
    }
}
