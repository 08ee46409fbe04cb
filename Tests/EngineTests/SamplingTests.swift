import Engine
import Foundation
import Sampling
import Testing

@Suite struct SamplingTests {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.5, 2.9, -4.0, 0.0]

    func sample(_ p: SamplingParameters, times: Int = 2000, history: [Int] = []) -> [Int: Int] {
        var sampler = Sampler(p)
        var counts: [Int: Int] = [:]
        for _ in 0..<times { counts[sampler.sample(logits[...], history: history[...]), default: 0] += 1 }
        return counts
    }

    @Test func greedyIsArgmax() {
        #expect(sample(.greedy, times: 5) == [1: 5])
    }

    @Test func seededRunsRepeat() {
        var p = SamplingParameters()
        p.seed = 42
        var a = Sampler(p), b = Sampler(p)
        let xs = (0..<50).map { _ in a.sample(logits[...]) }, ys = (0..<50).map { _ in b.sample(logits[...]) }
        #expect(xs == ys)
        p.seed = 43
        var c = Sampler(p)
        #expect((0..<50).map { _ in c.sample(logits[...]) } != xs)
    }

    @Test func plainSamplingFollowsSoftmax() {
        var p = SamplingParameters()
        p.temperature = 1; p.topK = 0; p.topP = 1; p.minP = 0; p.seed = 7
        let n = 20000
        let counts = sample(p, times: n)
        let probs = LogitProcessor.probabilities(logits)
        for (i, q) in probs.enumerated() {
            let observed = Double(counts[i, default: 0]) / Double(n)
            #expect(abs(observed - Double(q)) < 4 * (Double(q) * (1 - Double(q)) / Double(n)).squareRoot() + 1e-3, "token \(i)")
        }
    }

    @Test func filtersKeepWhatTheyShould() {
        var p = SamplingParameters()
        p.temperature = 1; p.topP = 1; p.minP = 0; p.topK = 2
        #expect(Set(sample(p).keys) == [1, 5])   // each kept one has p ≈ 0.5: both are drawn in 2000 tries
        p.topK = 0; p.minP = 0.5   // keeps logits ≥ 3 + ln 0.5 ≈ 2.31: ids 1, 5, 2 (p ≈ 0.39, 0.36, 0.24)
        #expect(Set(sample(p).keys) == [1, 5, 2])
        p.minP = 0; p.topP = 0.5   // p(1) ≈ 0.36 < 0.5, with id 5 ≈ 0.68: ids 1 and 5
        #expect(Set(sample(p).keys) == [1, 5])
    }

    @Test func repetitionPenaltyFollowsLlamaCpp() {
        var c = Candidates(ids: [0, 1, 3], logits: [2.0, 3.0, -1.0])
        LogitProcessor.repetition(penalty: 2, lastN: 64).apply(&c, history: [1, 3])
        #expect(c.logits == [2.0, 1.5, -2.0])
        var d = Candidates(ids: [0, 1], logits: [1, 1])
        LogitProcessor.presence(presence: 0.5, frequency: 0.25, lastN: 64).apply(&d, history: [1, 1, 1])
        #expect(d.logits == [1, 1 - 0.5 - 0.75])
    }
}

@Suite struct ThinkFilterTests {
    @Test func splitsReasoningAcrossPieces() {
        var f = ThinkFilter()
        var parts: [(ThinkFilter.Kind, String)] = []
        for piece in ["<th", "ink>\nLet me", " think.</", "think>\n\nThe answer", " is 4."] { parts += f.feed(piece) }
        parts += f.flush()
        let reasoning = parts.filter { $0.0 == .reasoning }.map(\.1).joined()
        let answer = parts.filter { $0.0 == .answer }.map(\.1).joined()
        #expect(reasoning == "\nLet me think.")
        #expect(answer == "\n\nThe answer is 4.")
    }

    @Test func plainTextPassesThrough() {
        var f = ThinkFilter()
        let parts = f.feed("a < b and <t") + f.flush()
        #expect(parts.map(\.1).joined() == "a < b and <t")
        #expect(parts.allSatisfy { $0.0 == .answer })
    }
}

/// Top-p without top-k drops the far tail before sorting; the draws are those of the same logits without that tail.
@Suite struct TopPTailTests {
    @Test func farTailDoesNotChangeDraws() {
        var p = SamplingParameters()
        p.topK = 0
        p.topP = 0.9
        p.minP = 0
        p.temperature = 1.1
        p.seed = 5
        let head: [Float] = (0..<50).map { Float(sin(Double($0))) * 3 }
        let withTail = head + [Float](repeating: -40, count: 100_000)   // ≥ 37 below the best
        var a = Sampler(p), b = Sampler(p)
        for _ in 0..<500 { #expect(a.sample(withTail[...]) == b.sample(head[...])) }
    }
}

/// Top-p sorts only a widening head of the candidates; the kept list must be exactly what a full stable sort
/// (written here, independently) keeps, ties and flat distributions included.
@Suite struct NucleusHeadTests {
    static func fullSortNucleus(_ c: Candidates, _ p: Float) -> [Int] {
        let order = c.ids.indices.sorted { c.logits[$0] != c.logits[$1] ? c.logits[$0] > c.logits[$1] : c.ids[$0] < c.ids[$1] }
        let m = c.logits.max()!
        let total = c.logits.reduce(Double(0)) { $0 + exp(Double($1 - m)) }
        var sum = 0.0
        for (i, j) in order.enumerated() {
            sum += exp(Double(c.logits[j] - m)) / total
            if sum >= Double(p) { return order.prefix(i + 1).map { c.ids[$0] } }
        }
        return order.map { c.ids[$0] }
    }

    @Test(arguments: [(0.95 as Float, 3.0), (0.5, 0.5), (0.99, 0.05), (0.9, 8.0)])
    func sameAsFullSort(p: Float, spread: Double) {
        var rng = SeededGenerator(seed: 11)
        for trial in 0..<20 {
            let n = 300 + trial * 900
            // Rounded logits make many ties; a small spread makes the nucleus wide.
            let logits = (0..<n).map { _ in Float((Double.random(in: -1...1, using: &rng) * spread * 4).rounded() / 4) }
            var c = Candidates(ids: Array(0..<n).shuffled(using: &rng), logits: logits)
            let expected = Self.fullSortNucleus(c, p)
            LogitProcessor.topP(p).apply(&c, history: [])
            // Float against Double sums may move the cut by one token when a partial sum lands on p.
            #expect(abs(c.ids.count - expected.count) <= 1)
            #expect(Array(c.ids.prefix(min(c.ids.count, expected.count))) == Array(expected.prefix(min(c.ids.count, expected.count))))
        }
    }
}
