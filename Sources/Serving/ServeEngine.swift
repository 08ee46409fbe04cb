import Engine
import Foundation
import Kernels
import LoRA
import Qwen2
import Sampling
import Synchronization
import Tokenizers

/// Continuous batching on one multi-sequence session. One thread owns the model; requests join free slots
/// between decoding steps and leave them as they finish, so a step decodes one token of every running request
/// that uses the same adapter. Prompts are computed in chunks of `promptChunk` tokens, one chunk per step, so a
/// long prompt delays the others' tokens by a chunk at a time instead of by the whole prompt. A slot keeps its
/// cache after a request: the next request whose prompt shares its start reuses it.
public final class ServeEngine: @unchecked Sendable {
    public let bundle: ModelBundle
    public let adapters: [String: LoRAAdapter]
    public let slotCount: Int
    public let contextSize: Int
    public let queueLimit: Int
    public let promptChunk: Int
    public let metrics = ServeMetrics()
    /// Whether a request may start from another's cached prompt start. Only where that changes no number: every
    /// layer matrix takes the panel kernels for prompt pieces (minPromptPiece), whose per-token results do not
    /// depend on the batch, and no adapter is in use (LoRA's f32 products do depend on it). Elsewhere (F16 or,
    /// without VNNI, Q8_0 weights) a reused start would change a request's numbers, and seeded answers would not
    /// repeat.
    public let reusesPrefixes: Bool

    private let session: Qwen2Session
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: [Job] = []
    private var stopping = false       // no new requests; the thread ends once the queue and the slots are empty
    private var cancelEverything = false
    private var runningCount = 0
    // The engine thread's own:
    private var slots: [Slot]
    private var nextAdapterTurn = 0
    private var finishedThread = false

    /// - Parameters:
    ///   - slots: requests decoded together at most (each has its own cache of `contextSize` tokens).
    ///   - queueLimit: requests that may wait for a slot; more are refused (`ServeError.queueFull`).
    public init(bundle: ModelBundle, slots: Int, contextSize: Int, threads: Int, adapters: [String: LoRAAdapter] = [:],
                queueLimit: Int = 64, promptChunk: Int = 256, cacheType: KVCacheType = .f16) {
        self.bundle = bundle
        self.adapters = adapters
        self.slotCount = max(slots, 1)
        self.contextSize = contextSize
        self.queueLimit = queueLimit
        self.promptChunk = max(promptChunk, 1)
        session = Qwen2Session(model: bundle.model, contextSize: contextSize,
                               maxBatch: max(self.promptChunk + Self.minPromptPiece, slotCount),
                               threads: threads, sequences: slotCount, cacheType: cacheType)
        self.slots = (0..<slotCount).map { _ in Slot() }
        reusesPrefixes = bundle.model.promptsIndependentOfBatch
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "vpgea-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A submitted request: cancel it to free its slot (a client that went away).
    public final class Handle: Sendable {
        fileprivate let job: Job
        fileprivate init(job: Job) { self.job = job }
        public func cancel() { job.cancelled.store(true, ordering: .relaxed) }
    }

    /// Queues a request. `onEvent` is called on the engine's thread, in order, ending with `.finished` or
    /// `.failed` (a cancelled request ends without an event).
    public func submit(_ request: ServeRequest, onEvent: @escaping @Sendable (ServeEvent) -> Void) throws(ServeError) -> Handle {
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        guard request.prompt.count < contextSize else {
            throw .promptTooLong(tokens: request.prompt.count, context: contextSize)
        }
        if let name = request.adapter, adapters[name] == nil { throw .unknownAdapter(name) }
        let job = Job(request: request, onEvent: onEvent)
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw .shuttingDown }
        guard queue.count < queueLimit else {
            metrics.refused()
            throw .queueFull(limit: queueLimit)
        }
        queue.append(job)
        metrics.queued(waiting: queue.count)
        condition.signal()
        return Handle(job: job)
    }

    /// Stops taking requests and ends the engine thread once the running and queued ones are done (or, with
    /// `cancelRunning`, at once: they end as cancelled). Returns when the thread has ended.
    public func shutdown(cancelRunning: Bool = false) {
        condition.lock()
        stopping = true
        cancelEverything = cancelRunning   // the engine thread cancels what it runs (its slots are its own)
        if cancelRunning { queue.removeAll() }
        condition.broadcast()
        while !finishedThread { condition.wait() }
        condition.unlock()
    }

    /// Requests waiting and running now.
    public var load: (waiting: Int, running: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (queue.count, runningCount)
    }

    // MARK: - The engine thread

    fileprivate final class Job: Sendable {
        let request: ServeRequest
        let onEvent: @Sendable (ServeEvent) -> Void
        let cancelled = Atomic<Bool>(false)
        init(request: ServeRequest, onEvent: @escaping @Sendable (ServeEvent) -> Void) {
            self.request = request
            self.onEvent = onEvent
        }
    }

    /// One sequence of the session.
    private struct Slot {
        var job: Job?
        /// Tokens whose keys and values are in this sequence's cache, and the adapter they were computed with.
        var cached: [Int] = []
        var cachedAdapter: String?
        /// Logits of the last computed position, once the prompt is done: the next token is sampled from them (a
        /// view into the step's rows, not a copy).
        var logits: ArraySlice<Float>?
        var sampler = Sampler(.greedy)
        var decoder: StreamingDecoder?
        var scanner = StopScanner(stops: [])
        var generated = 0
        var admitted = 0   // admission order, for prompt chunks first come first served
    }

    private var admissions = 0

    /// Prompt pieces are never shorter than this (when the prompt has that many tokens): from 5 tokens on, prompt
    /// products run the panel kernels, whose result for a token does not depend on the other tokens of the
    /// batch, so a prompt's numbers are the same however it is cut into chunks or reused from a slot's cache —
    /// a request gets the text it gets alone. (Types without panel kernels, F16 and AVX2's Q8_0, keep this only
    /// approximately.)
    static let minPromptPiece = Qwen2Model.minPanelPiece
    /// Sequences per decoding step at most: up to 32, a step runs the same row kernels as one sequence's
    /// generation, so every sequence's logits are the ones it gets alone.
    static let maxStepSequences = 32

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && runningCount == 0 && !stopping { condition.wait() }
            if stopping && runningCount == 0 && queue.isEmpty {
                finishedThread = true
                condition.broadcast()
                condition.unlock()
                return
            }
            admit()
            let cancelAll = cancelEverything
            condition.unlock()
            dropCancelled(all: cancelAll)
            do {
                try prefillOneChunk()
                try decodeOneStep()
            } catch {
                // Prompts and lengths are checked before they reach the model, so this is a bug: fail the running
                // requests with it rather than stop serving.
                for i in slots.indices where slots[i].job != nil { finish(i, failure: .engine("\(error)")) }
            }
        }
    }

    /// Moves waiting requests into free slots (called with the lock held): each goes to the free slot whose cache
    /// shares the longest start with its prompt.
    private func admit() {
        while !queue.isEmpty, let _ = slots.firstIndex(where: { $0.job == nil }) {
            let job = queue.removeFirst()
            if job.cancelled.load(ordering: .relaxed) { continue }
            let r = job.request
            var best = -1, bestCommon = -1
            for i in slots.indices where slots[i].job == nil {
                let reusable = reusesPrefixes && r.adapter == nil && slots[i].cachedAdapter == nil
                let common = reusable ? zip(slots[i].cached, r.prompt).prefix { $0 == $1 }.count : 0
                if common > bestCommon { (best, bestCommon) = (i, common) }
            }
            // At least the last prompt tokens are computed again, for the logits (minPromptPiece of them).
            let reuse = max(0, min(bestCommon, r.prompt.count - Self.minPromptPiece))
            session.truncate(to: reuse, sequence: best)
            admissions += 1
            slots[best] = Slot(job: job, cached: Array(r.prompt[..<reuse]), cachedAdapter: r.adapter, logits: nil,
                               sampler: Sampler(r.sampling), decoder: StreamingDecoder(tokenizer: bundle.tokenizer),
                               scanner: StopScanner(stops: r.stop), generated: 0, admitted: admissions)
            runningCount += 1
            metrics.started(promptTokens: r.prompt.count, reused: reuse)
        }
        metrics.queued(waiting: queue.count)
    }

    private func dropCancelled(all: Bool) {
        for i in slots.indices where slots[i].job != nil && (all || slots[i].job!.cancelled.load(ordering: .relaxed)) {
            finish(i, reason: nil)
            metrics.cancelled()
        }
    }

    /// Computes the next chunk of the earliest admitted prompt that is not done.
    private func prefillOneChunk() throws {
        guard let i = slots.indices.filter({ slots[$0].job != nil && slots[$0].logits == nil })
            .min(by: { slots[$0].admitted < slots[$1].admitted }) else { return }
        let prompt = slots[i].job!.request.prompt
        let start = slots[i].cached.count
        var end = min(start + promptChunk, prompt.count)
        if prompt.count - end < Self.minPromptPiece { end = prompt.count }   // no short last piece
        session.adapter = slots[i].cachedAdapter.flatMap { adapters[$0] }
        let clock = ContinuousClock(), began = clock.now
        let out = try session.decode(Array(prompt[start..<end]), logits: end == prompt.count ? .last : .none, sequence: i)
        metrics.computedPrompt(tokens: end - start, seconds: (clock.now - began).secondsValue)
        slots[i].cached = Array(prompt[..<end])
        if end == prompt.count { slots[i].logits = out[...] }
    }

    /// Samples a token for every ready request of one adapter (the adapters take turns) and decodes them in one step.
    private func decodeOneStep() throws {
        let ready = slots.indices.filter { slots[$0].job != nil && slots[$0].logits != nil }
        guard !ready.isEmpty else { return }
        var groups: [String?] = []
        for i in ready where !groups.contains(slots[i].cachedAdapter) { groups.append(slots[i].cachedAdapter) }
        let adapter = groups[nextAdapterTurn % groups.count]
        nextAdapterTurn += 1
        var steps: [(sequence: Int, token: Int)] = []
        // More than a step takes: they take turns.
        let group = ready.filter { slots[$0].cachedAdapter == adapter }
        let first = group.count > Self.maxStepSequences ? nextAdapterTurn % group.count : 0
        for i in (group[first...] + group[..<first]).prefix(Self.maxStepSequences) {
            if let token = sampleAndEmit(i) { steps.append((i, token)) }
        }
        guard !steps.isEmpty else { return }
        session.adapter = adapter.flatMap { adapters[$0] }
        let clock = ContinuousClock(), began = clock.now
        let rows = try session.decodeStep(steps)
        metrics.generated(tokens: steps.count, seconds: (clock.now - began).secondsValue)
        let vocab = bundle.model.config.vocabularySize
        for (k, s) in steps.enumerated() {
            slots[s.sequence].cached.append(s.token)
            slots[s.sequence].logits = rows[k * vocab..<(k + 1) * vocab]
        }
    }

    /// Samples slot i's next token and reports its text; returns the token if the request goes on.
    private func sampleAndEmit(_ i: Int) -> Int? {
        let job = slots[i].job!, r = job.request
        let logits = slots[i].logits!
        // Every token so far is in the cache when a token is sampled: the cached tokens are the history.
        let token = slots[i].sampler.sample(logits, history: slots[i].cached[...])
        let logprob = r.topLogprobs.map { Logprobs.of(token, in: logits, top: $0, tokenizer: bundle.tokenizer) }
        slots[i].generated += 1
        slots[i].logits = nil
        if bundle.tokenizer.endOfGeneration.contains(token) {
            job.onEvent(.text(heldText(i).text, logprob))
            finish(i, reason: .stop)
            return nil
        }
        let piece = slots[i].scanner.feed(slots[i].decoder!.append(token))
        job.onEvent(.text(piece.text, logprob))
        if piece.stopped {
            finish(i, reason: .stop)
            return nil
        }
        if slots[i].generated >= r.maxTokens || slots[i].cached.count >= contextSize {
            let tail = heldText(i)
            if !tail.text.isEmpty { job.onEvent(.text(tail.text, nil)) }
            finish(i, reason: tail.stopped ? .stop : .length)
            return nil
        }
        return token
    }

    /// At the end of a request: what the decoder and the stop scanner still hold, up to a stop string if one is in it.
    private func heldText(_ i: Int) -> (text: String, stopped: Bool) {
        let tail = slots[i].scanner.feed(slots[i].decoder!.flush())
        return tail.stopped ? tail : (tail.text + slots[i].scanner.flush(), false)
    }

    /// Ends slot i's request (reason nil: cancelled, no event); the slot keeps its cache for the next request.
    private func finish(_ i: Int, reason: FinishReason? = nil, failure: ServeError? = nil) {
        guard let job = slots[i].job else { return }
        if let failure {
            job.onEvent(.failed(failure))
            slots[i].cached = []   // the cache may be half-written
        } else if let reason {
            job.onEvent(.finished(reason, promptTokens: job.request.prompt.count, completionTokens: slots[i].generated))
            metrics.finished()
        }
        // Tokens sampled but never decoded are not in the cache.
        session.truncate(to: slots[i].cached.count, sequence: i)
        slots[i].job = nil
        slots[i].logits = nil
        condition.lock()
        runningCount -= 1
        condition.unlock()
    }
}
