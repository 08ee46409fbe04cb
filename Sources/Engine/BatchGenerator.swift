import Foundation
import Kernels
import Qwen2
import Sampling

extension Qwen2Model {
    /// Prompt pieces of at least this many tokens run the panel kernels on the types that have them.
    public static let minPanelPiece = 8

    /// Whether a prompt's numbers are the same however it is cut into pieces of at least `minPanelPiece` tokens
    /// (or reused from another sequence's cache): every layer matrix takes the panel kernels, whose result for a
    /// token does not depend on the other tokens of the product (nor in Q8_0's 16-bit products on AVX-512, nor in
    /// BF16's bf16 products). Not so for F16 weights, or Q8_0 elsewhere (and its K and V projections), whose prompts
    /// go through sgemm.
    public var promptsIndependentOfBatch: Bool {
        weights.layerMatrices.allSatisfy {
            let plan = MatMul.plan($0.type, rows: $0.rows, tokens: Self.minPanelPiece, generationStep: false,
                                   exactActivations: false, path: .selected)
            return plan == .integerPanels || plan == .int16Rows || plan == .bf16Products
        }
    }
}

/// One sequence to generate in a batch.
public struct BatchRequest: Sendable {
    public var prompt: [Int]
    public var sampling: SamplingParameters
    public var maxTokens: Int
    /// Whether the session's adapter, when it has one, applies to this sequence (false: the base model's tokens, in
    /// the same batch as sequences that take it).
    public var adapter: Bool
    public init(prompt: [Int], sampling: SamplingParameters, maxTokens: Int, adapter: Bool = true) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.adapter = adapter
    }
}

/// What one sequence generated; the stop token, when there was one, is the last token.
public struct BatchCompletion: Sendable {
    public var tokens: [Int]
    public var stopReason: StopReason
}

/// Generates many sequences at once on a multi-sequence session: every step appends one token to each
/// unfinished sequence in one batch, so the weights are read once per step for all of them. The session's
/// sequences are slots: when a sequence finishes, the next request takes its slot at once (continuous batching),
/// so the batch stays full however the lengths differ. With no more requests than slots, every prompt is computed
/// before the first step. A prompt that shares a prefix with one still in the cache copies that prefix instead of
/// computing it again, where that changes no number. The tokens depend only on the requests, their order and the
/// slot count.
public final class BatchGenerator {
    public let session: Qwen2Session
    public let stopTokens: Set<Int>
    /// Tokens generated and wall time of the last `generate` (prompts excluded).
    public private(set) var generatedTokens = 0
    public private(set) var generationSeconds = 0.0
    public private(set) var promptTokensComputed = 0

    public init(session: Qwen2Session, stopTokens: Set<Int>) {
        self.session = session
        self.stopTokens = stopTokens
    }

    /// Generates every request, at most `session.sequences` at a time. `onStep(generated, active)` is called after
    /// each batched step with the tokens generated so far; `onCompletion(finished, request, completion)` each time a
    /// request finishes (`finished`: how many have so far; `request`: its index), so that a caller can keep it at once.
    public func generate(_ requests: [BatchRequest], onStep: ((Int, Int) -> Void)? = nil,
                         onCompletion: ((_ finished: Int, _ request: Int, BatchCompletion) -> Void)? = nil) throws -> [BatchCompletion] {
        generatedTokens = 0
        generationSeconds = 0
        promptTokensComputed = 0
        for r in requests {
            guard !r.prompt.isEmpty else { throw EngineError.template("an empty prompt") }
            guard r.prompt.count < session.contextSize else {
                throw EngineError.promptTooLong(tokens: r.prompt.count, context: session.contextSize)
            }
        }
        let vocab = session.model.config.vocabularySize
        session.reset()
        defer { session.sequencesWithoutAdapter = [] }
        var slots = SlotState(count: session.sequences)
        let independent = session.model.promptsIndependentOfBatch   // (walks every layer's matrix types)
        var logits: [[Float]] = Array(repeating: [], count: session.sequences)   // [slot][vocab] of the next token
        var samplers: [Sampler?] = Array(repeating: nil, count: session.sequences)   // [slot]: its request's sampler
        var histories: [[Int]] = Array(repeating: [], count: session.sequences)    // [slot]: prompt + generated tokens
        var completions = requests.map { _ in BatchCompletion(tokens: [], stopReason: .maxTokens) }
        var next = 0, finished = 0
        var promptSeconds = 0.0
        let clock = ContinuousClock()
        /// Puts the next requests into the free slots (in slot order) and computes their prompts.
        func admit() throws {
            let begin = clock.now
            defer { if generatedTokens > 0 { promptSeconds += (clock.now - begin).secondsValue } }
            while next < requests.count, let slot = slots.free.first {
                let r = requests[next]
                if r.adapter { session.sequencesWithoutAdapter.remove(slot) } else { session.sequencesWithoutAdapter.insert(slot) }
                let reused = prefill(r.prompt, adapter: r.adapter, slot: slot, slots: slots, independent: independent)
                promptTokensComputed += r.prompt.count - reused
                logits[slot] = try session.decode(Array(r.prompt[reused...]), logits: .last, sequence: slot)
                slots.occupy(slot, request: next, prompt: r.prompt, adapter: r.adapter)
                samplers[slot] = Sampler(r.sampling)
                histories[slot] = r.prompt   // for the samplers' penalties
                next += 1
            }
        }
        try admit()
        let begin = clock.now
        while !slots.occupied.isEmpty {
            var steps: [(sequence: Int, token: Int)] = []
            let live = slots.occupied
            let drawn = sampleInParallel(live, samplers: &samplers, logits: logits, histories: histories, vocab: vocab)   // [live.count]
            for (slot, token) in zip(live, drawn) {
                let i = slots.request[slot]!
                completions[i].tokens.append(token)
                histories[slot].append(token)
                generatedTokens += 1
                var stop: StopReason?
                if stopTokens.contains(token) {
                    stop = .endOfGeneration
                } else if completions[i].tokens.count >= requests[i].maxTokens {
                    stop = .maxTokens
                } else if session.lengths[slot] >= session.contextSize {
                    stop = .contextFull
                }
                if let stop {
                    completions[i].stopReason = stop
                    slots.release(slot)
                    (samplers[slot], histories[slot]) = (nil, [])
                    finished += 1
                    onCompletion?(finished, i, completions[i])
                } else {
                    steps.append((slot, token))
                }
            }
            if !steps.isEmpty {
                let rows = try session.decodeStep(steps)
                for (k, s) in steps.enumerated() { logits[s.sequence] = Array(rows[k * vocab..<(k + 1) * vocab]) }
            }
            onStep?(generatedTokens, steps.count)
            try admit()
        }
        generationSeconds = (clock.now - begin).secondsValue - promptSeconds
        return completions
    }

    /// The next token of each slot in `live`, drawn by its own sampler from its own logits: the slots split over the
    /// session's threads (alone, this step would leave all but one core idle); each sampler's draws, and so the tokens,
    /// are the same as one after the other.
    private func sampleInParallel(_ live: [Int], samplers: inout [Sampler?], logits: [[Float]], histories: [[Int]],
                                  vocab: Int) -> [Int] {
        var drawn = [Int](repeating: 0, count: live.count)   // [live.count]
        drawn.withUnsafeMutableBufferPointer { out in
            samplers.withUnsafeMutableBufferPointer { samplers in
                parallelFor(parts: live.count, threads: session.threads) { k in
                    let slot = live[k]
                    out[k] = samplers[slot]!.sample(logits[slot][0..<vocab], history: histories[slot][...])
                }
            }
        }
        return drawn
    }

    /// Makes `slot` start with the longest prefix of `prompt` that another cached prompt (of a live or finished
    /// slot, whose cache is intact until the slot is taken again, computed with the adapter as this one is) can give
    /// without changing a number: an identical prompt's whole cache but its last token (decoded again, for the
    /// logits), or, where prompts are independent of the batch (`independent`), a shared start followed by a
    /// panel-sized piece. Returns the tokens reused.
    private func prefill(_ prompt: [Int], adapter: Bool, slot: Int, slots: SlotState, independent: Bool) -> Int {
        var best = 0, source = -1
        let candidates = slots.cached.indices.filter { slots.cachedWithAdapter[$0] == adapter }
        if let same = candidates.first(where: { slots.cached[$0] == prompt }) {
            (best, source) = (prompt.count - 1, same)
        } else if independent {
            for j in candidates where !slots.cached[j].isEmpty {
                let c = slots.cached[j]
                let common = min(zip(c, prompt).prefix { $0 == $1 }.count, prompt.count - Qwen2Model.minPanelPiece)
                if common > best { (best, source) = (common, j) }
            }
        }
        guard source >= 0, best > 0 else {
            session.truncate(to: 0, sequence: slot)
            return 0
        }
        session.copyPrefix(from: source, to: slot, count: best)
        return best
    }
}

/// Which request holds each slot and which prompt each slot's cache starts with.
private struct SlotState {
    /// [slot]: the request generating in the slot, nil when free.
    var request: [Int?]
    /// [slot]: the prompt at the start of the slot's cache (empty before its first request).
    var cached: [[Int]]
    /// [slot]: whether that cache was computed with the session's adapter.
    var cachedWithAdapter: [Bool]

    init(count: Int) {
        request = Array(repeating: nil, count: count)
        cached = Array(repeating: [], count: count)
        cachedWithAdapter = Array(repeating: true, count: count)
    }

    var free: [Int] { request.indices.filter { request[$0] == nil } }
    var occupied: [Int] { request.indices.filter { request[$0] != nil } }
    mutating func occupy(_ slot: Int, request r: Int, prompt: [Int], adapter: Bool) {
        request[slot] = r
        cached[slot] = prompt
        cachedWithAdapter[slot] = adapter
    }
    mutating func release(_ slot: Int) { request[slot] = nil }
}
