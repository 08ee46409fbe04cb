import Foundation

/// A seeded pseudo-random generator (xoshiro256**), so that sampling is reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3; s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}

/// Token candidates with their logits; processors narrow and reshape them, in order.
public struct Candidates {
    public var ids: [Int]
    public var logits: [Float]
    public init(ids: [Int], logits: [Float]) {
        self.ids = ids
        self.logits = logits
    }
}

/// One step of the sampling pipeline. Each is a small value; a sampler is a list of them.
public enum LogitProcessor: Sendable, Equatable {
    /// Divides positive logits by `penalty` and multiplies negative ones (llama.cpp's repeat penalty), for
    /// tokens among the last `lastN` of the history.
    case repetition(penalty: Float, lastN: Int)
    /// Subtracts `presence` once and `frequency` per occurrence, for tokens among the last `lastN`.
    case presence(presence: Float, frequency: Float, lastN: Int)
    /// Keeps the `k` most likely tokens.
    case topK(Int)
    /// Keeps the smallest set of most likely tokens whose probability reaches `p`.
    case topP(Float)
    /// Keeps tokens whose probability is at least `p` times that of the most likely one.
    case minP(Float)
    /// Divides the logits by the temperature.
    case temperature(Float)

    public func apply(_ c: inout Candidates, history: ArraySlice<Int>) {
        switch self {
        case .repetition(let penalty, let lastN):
            guard penalty != 1 else { return }
            let recent = Set(history.suffix(lastN))
            for i in c.ids.indices where recent.contains(c.ids[i]) {
                c.logits[i] = c.logits[i] > 0 ? c.logits[i] / penalty : c.logits[i] * penalty
            }
        case .presence(let presence, let frequency, let lastN):
            guard presence != 0 || frequency != 0 else { return }
            var counts: [Int: Int] = [:]
            for t in history.suffix(lastN) { counts[t, default: 0] += 1 }
            for i in c.ids.indices {
                if let n = counts[c.ids[i]] { c.logits[i] -= presence + frequency * Float(n) }
            }
        case .topK(let k):
            guard k > 0, k < c.ids.count else { return }
            Self.sortDescending(&c)
            c.ids.removeLast(c.ids.count - k)
            c.logits.removeLast(c.logits.count - k)
        case .topP(let p):
            guard p < 1 else { return }
            Self.keepNucleus(&c, p)
        case .minP(let p):
            guard p > 0, let maxLogit = c.logits.max() else { return }
            let threshold = maxLogit + log(p)
            let kept = c.ids.indices.filter { c.logits[$0] >= threshold }
            c.ids = kept.map { c.ids[$0] }
            c.logits = kept.map { c.logits[$0] }
        case .temperature(let t):
            guard t > 0 else { return }
            for i in c.logits.indices { c.logits[i] /= t }
        }
    }

    /// Top-p without sorting the whole list: the k best (ties included) are exactly the head of the full
    /// descending order, so sort only them, and widen k until their mass reaches `p`. At most a few hundred
    /// tokens are sorted in practice instead of the tens of thousands that survive a sampling prefilter.
    static func keepNucleus(_ c: inout Candidates, _ p: Float) {
        guard let m = c.logits.max() else { return }
        let weights = c.logits.map { expf($0 - m) }   // [n] unnormalised probabilities
        // Sums in Double: a flat nucleus of thousands of tokens would move the cut by several in Float.
        let total = weights.reduce(Double(0)) { $0 + Double($1) }
        var k = 64
        while true {
            var head = Array(c.ids.indices)
            if k < c.ids.count {
                let threshold = kthLargest(c.logits[...], k)
                head = c.ids.indices.filter { c.logits[$0] >= threshold }
            }
            head.sort { precedes(c, $0, $1) }
            var sum = 0.0
            var keep = -1
            for (i, j) in head.enumerated() {
                sum += Double(weights[j]) / total
                if sum >= Double(p) { keep = i + 1; break }
            }
            if keep < 0, head.count < c.ids.count { k *= 4; continue }
            let kept = keep < 0 ? head : Array(head.prefix(keep))
            c.ids = kept.map { c.ids[$0] }
            c.logits = kept.map { c.logits[$0] }
            return
        }
    }

    /// The k-th largest value, keeping a sorted list of the k largest seen so far.
    static func kthLargest(_ values: ArraySlice<Float>, _ k: Int) -> Float {
        guard k < values.count else { return -.infinity }
        var heap = Array(values.prefix(k)).sorted()
        for v in values.dropFirst(k) where v > heap[0] {
            // Replace the smallest and keep `heap` sorted (k is small next to the vocabulary).
            var i = 0
            while i + 1 < heap.count, heap[i + 1] < v { heap[i] = heap[i + 1]; i += 1 }
            heap[i] = v
        }
        return heap[0]
    }

    /// The candidates' order: higher logit first, then lower id.
    @inline(__always) static func precedes(_ c: Candidates, _ a: Int, _ b: Int) -> Bool {
        c.logits[a] != c.logits[b] ? c.logits[a] > c.logits[b] : c.ids[a] < c.ids[b]
    }

    static func sortDescending(_ c: inout Candidates) {
        let order = c.ids.indices.sorted { precedes(c, $0, $1) }
        c.ids = order.map { c.ids[$0] }
        c.logits = order.map { c.logits[$0] }
    }

    public static func probabilities(_ logits: [Float]) -> [Float] {
        guard let m = logits.max() else { return [] }
        let e = logits.map { expf($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

/// Sampling settings, with llama.cpp's defaults.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0.8
    public var topK = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repeatPenalty: Float = 1.0
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    public var repeatLastN = 64
    public var seed: UInt64 = 0

    public init() {}

    /// Greedy decoding: always the most likely token.
    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }

    /// Temperature and top-p alone (no top-k, no min-p, no penalties), seeded: the rollouts' and evaluations' sampler.
    public static func nucleus(temperature: Float, topP: Float, seed: UInt64) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topP = topP
        p.topK = 0
        p.minP = 0
        p.seed = seed
        return p
    }

    /// The pipeline: penalties, then top-k, top-p, min-p, then temperature.
    public var processors: [LogitProcessor] {
        [.repetition(penalty: repeatPenalty, lastN: repeatLastN),
         .presence(presence: presencePenalty, frequency: frequencyPenalty, lastN: repeatLastN),
         .topK(topK), .topP(topP), .minP(minP), .temperature(temperature)]
    }
}

/// Picks the next token from a row of logits.
public struct Sampler {
    public let parameters: SamplingParameters
    private var rng: SeededGenerator

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SeededGenerator(seed: parameters.seed)
    }

    public mutating func sample(_ logits: ArraySlice<Float>, history: ArraySlice<Int> = []) -> Int {
        let base = logits.startIndex
        if parameters.temperature <= 0 {
            let penalized = parameters.repeatPenalty != 1 || parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0
            if !penalized {
                // Plain argmax (lowest id on ties), without copying the vocabulary.
                var best = base
                for i in logits.indices where logits[i] > logits[best] { best = i }
                return best - base
            }
            // Greedy, with penalties still applied to the tokens they touch.
            var c = Candidates(ids: Array(0..<logits.count), logits: Array(logits))
            LogitProcessor.repetition(penalty: parameters.repeatPenalty, lastN: parameters.repeatLastN).apply(&c, history: history)
            LogitProcessor.presence(presence: parameters.presencePenalty, frequency: parameters.frequencyPenalty,
                                    lastN: parameters.repeatLastN).apply(&c, history: history)
            var best = 0
            for i in c.logits.indices where c.logits[i] > c.logits[best] { best = i }
            return best
        }
        // With top-k on, only the k best can survive: pre-select them cheaply so that every later step works on
        // a short list. Without it, the whole vocabulary is kept.
        let preselect = parameters.topK > 0 ? min(parameters.topK, logits.count) : logits.count
        var c = Candidates(ids: [], logits: [])
        var threshold = LogitProcessor.kthLargest(logits, preselect)
        // Top-p alone: tokens more than 30 below the best hold under V·e⁻³⁰ ≈ 1e-8 of the mass together, so they
        // can never be among the smallest set reaching p < 1 − 1e-6; dropping them first avoids sorting the
        // whole vocabulary. (Penalties could lower the best logit, so not with penalties.)
        let penalized = parameters.repeatPenalty != 1 || parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0
        if parameters.topK <= 0, parameters.topP < 1 - 1e-6, !penalized, let best = logits.max() {
            threshold = max(threshold, best - 30)
        }
        for i in 0..<logits.count where logits[base + i] >= threshold {
            c.ids.append(i)
            c.logits.append(logits[base + i])
        }
        for p in parameters.processors { p.apply(&c, history: history) }
        let probs = LogitProcessor.probabilities(c.logits)
        var u = Float(Double(rng.next() >> 11) / Double(1 << 53))
        for (i, q) in probs.enumerated() {
            u -= q
            if u <= 0 { return c.ids[i] }
        }
        return c.ids.last ?? 0
    }
}
