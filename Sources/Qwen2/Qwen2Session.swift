import Kernels
import Quants

/// Which positions of a decoded batch get logits.
public enum LogitsSelection: Sendable {
    case none, last, all
    /// Positions `from..<n` of the batch.
    case from(Int)
}

/// A decoding session: the KV cache and every activation buffer, allocated once; `decode` appends tokens.
/// One path serves prompt processing (many tokens) and generation (one token). The cache can hold several
/// independent sequences (`sequences`), decoded together one token each by `decodeStep` (batched generation:
/// the weights are read once for all of them).
public final class Qwen2Session {
    public let model: Qwen2Model
    /// Tokens each sequence can hold.
    public let contextSize: Int
    public let maxBatch: Int
    public let threads: Int
    public let sequences: Int
    /// Tokens in each sequence's cache.
    public private(set) var lengths: [Int]
    /// Tokens in sequence 0's cache.
    public var position: Int { lengths[0] }

    private let matmul: MatMul
    /// How the cache stores keys and values (f16 unless asked otherwise, as llama.cpp).
    public let cacheType: KVCacheType
    private let cacheRowBytes: Int                      // bytes of one cache row of kvDim values
    private let keys: [UnsafeMutableRawPointer]         // [layers][sequences, contextSize, kvDim] in cacheType
    private let values: [UnsafeMutableRawPointer]       // [layers][sequences, contextSize, kvDim] in cacheType
    private let x: UnsafeMutablePointer<Float>          // [maxBatch, embd] residual stream
    private let xb: UnsafeMutablePointer<Float>         // [maxBatch, embd] normed input / block output
    private let q: UnsafeMutablePointer<Float>          // [maxBatch, heads*headDim]
    private let k: UnsafeMutablePointer<Float>          // [maxBatch, kvDim]
    private let v: UnsafeMutablePointer<Float>          // [maxBatch, kvDim]
    private let att: UnsafeMutablePointer<Float>        // [maxBatch, heads*headDim]
    private let gate: UnsafeMutablePointer<Float>       // [maxBatch, ff]
    private let up: UnsafeMutablePointer<Float>         // [maxBatch, ff]
    private let positions: UnsafeMutablePointer<Int32>  // [maxBatch] position of each row in its sequence
    private let rowStarts: UnsafeMutablePointer<Int32>  // [maxBatch] cache row where each row's sequence starts
    private let scores: UnsafeMutablePointer<Float>     // [threads, heads / kvHeads, contextSize] attention scratch
    private var logits: [Float] = []                    // [rows, vocab], grown on demand
    private var adapterScratch: [Float] = []            // [maxBatch, scratchPerRow] adapter branch, grown on demand

    /// An adapter (LoRA) applied on the fly, not merged; it may change between calls (training updates it).
    public var adapter: (any ProjectionAdapter)?
    /// Sequences that `adapter` leaves alone: their rows take the base model's products, so one batch can mix
    /// sequences with and without it (VPG-EA's posterior view on the frozen base beside the adapted prior view).
    public var sequencesWithoutAdapter: Set<Int> = []

    /// `kernelPath` forces an instruction-set path for the generation kernels (tests use it); nil picks the best.
    /// `exactActivations` keeps every product's activations in f32 (nil: `MatMul.exactActivationsByDefault`).
    /// `cacheType` q8_0 needs a head size that is a multiple of 32; otherwise the cache is f16.
    public init(model: Qwen2Model, contextSize: Int = 4096, maxBatch: Int = 512, threads: Int = 2,
                kernelPath: KernelPath? = nil, exactActivations: Bool? = nil, sequences: Int = 1,
                cacheType: KVCacheType = .f16) {
        let c = model.config
        self.model = model
        self.contextSize = contextSize
        self.sequences = max(sequences, 1)
        lengths = [Int](repeating: 0, count: max(sequences, 1))
        Self.keepLargeAllocations()
        self.maxBatch = maxBatch
        self.threads = max(threads, 1)
        matmul = MatMul(threads: threads, path: kernelPath, exactActivations: exactActivations)
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        self.cacheType = cacheType.fits(headDim: c.headDim) ? cacheType : .f16
        cacheRowBytes = self.cacheType.bytes(c.kvDim)
        let cacheBytes = max(sequences, 1) * contextSize * cacheRowBytes
        func cacheBuffer() -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(cacheBytes, 1), alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: max(cacheBytes, 1))
            return p
        }
        keys = (0..<c.layerCount).map { _ in cacheBuffer() }
        values = (0..<c.layerCount).map { _ in cacheBuffer() }
        x = buffer(maxBatch * c.embeddingLength)
        xb = buffer(maxBatch * c.embeddingLength)
        q = buffer(maxBatch * c.headCount * c.headDim)
        k = buffer(maxBatch * c.kvDim)
        v = buffer(maxBatch * c.kvDim)
        att = buffer(maxBatch * c.headCount * c.headDim)
        gate = buffer(maxBatch * c.feedForwardLength)
        up = buffer(maxBatch * c.feedForwardLength)
        positions = UnsafeMutablePointer<Int32>.allocate(capacity: maxBatch)
        rowStarts = UnsafeMutablePointer<Int32>.allocate(capacity: maxBatch)
        scores = buffer(Attention.scratchCount(threads: self.threads, heads: c.headCount, kvHeads: c.headCountKV, ctx: contextSize))
    }

    /// Logit rows (600 KB per token) are handed out as fresh arrays; glibc would map and unmap each one, and
    /// the kernel would zero its pages every token.
    private static func keepLargeAllocations() { KernelMemory.keepLargeAllocations() }

    deinit {
        (keys + values).forEach { $0.deallocate() }
        [x, xb, q, k, v, att, gate, up, scores].forEach { $0.deallocate() }
        positions.deallocate()
        rowStarts.deallocate()
    }

    /// Empties the cache (every sequence).
    public func reset() { lengths = lengths.map { _ in 0 } }

    /// Forgets every token of `sequence` after the first `count` (e.g. to re-use a shared prompt prefix).
    public func truncate(to count: Int, sequence: Int = 0) { lengths[sequence] = min(lengths[sequence], max(count, 0)) }

    /// Makes sequence `target` a copy of the first `count` tokens of sequence `source` (a shared prompt is
    /// computed once, then copied).
    public func copyPrefix(from source: Int, to target: Int, count: Int) {
        let n = min(count, lengths[source]), stride = contextSize * cacheRowBytes
        guard source != target else { lengths[target] = n; return }
        for l in 0..<model.config.layerCount {
            (keys[l] + target * stride).copyMemory(from: keys[l] + source * stride, byteCount: n * cacheRowBytes)
            (values[l] + target * stride).copyMemory(from: values[l] + source * stride, byteCount: n * cacheRowBytes)
        }
        lengths[target] = n
    }

    /// Appends one token to each listed sequence (at most `maxBatch`, each sequence once) in one batch and
    /// returns each one's logits, `[steps.count, vocab]`.
    public func decodeStep(_ steps: [(sequence: Int, token: Int)]) throws(ModelError) -> [Float] {
        let c = model.config
        for s in steps {
            guard lengths[s.sequence] < contextSize else { throw .contextFull(needed: lengths[s.sequence] + 1, size: contextSize) }
            guard s.token >= 0, s.token < c.vocabularySize else { throw .badToken(s.token, vocabulary: c.vocabularySize) }
        }
        precondition(steps.count <= maxBatch && Set(steps.map(\.sequence)).count == steps.count, "one token per sequence, at most maxBatch")
        forward(steps.map { ($0.sequence, $0.token) }, outputRows: 0..<steps.count, generationStep: true)
        return Array(logits[0..<steps.count * c.vocabularySize])
    }

    /// Appends `tokens` to sequence `sequence` and returns the logits of the selected positions, `[rows, vocab]`
    /// row-major.
    public func decode(_ tokens: [Int], logits selection: LogitsSelection = .last, sequence: Int = 0) throws(ModelError) -> [Float] {
        let c = model.config
        guard lengths[sequence] + tokens.count <= contextSize else {
            throw .contextFull(needed: lengths[sequence] + tokens.count, size: contextSize)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= c.vocabularySize }) {
            throw .badToken(bad, vocabulary: c.vocabularySize)
        }
        let wanted: Range<Int> = switch selection {
        case .none: 0..<0
        case .last: max(tokens.count - 1, 0)..<tokens.count
        case .all: 0..<tokens.count
        case .from(let f): min(max(f, 0), tokens.count)..<tokens.count
        }
        var out = [Float]()
        out.reserveCapacity(wanted.count * c.vocabularySize)
        var start = 0
        while start < tokens.count {
            let end = min(start + maxBatch, tokens.count)
            // The wanted positions inside this batch (empty when they all lie in another batch).
            let lo = max(wanted.lowerBound, start), hi = min(wanted.upperBound, end)
            let rows = lo < hi ? lo..<hi : start..<start
            forward(tokens[start..<end].map { (sequence, $0) },
                    outputRows: rows.isEmpty ? 0..<0 : (rows.lowerBound - start)..<(rows.upperBound - start))
            if !rows.isEmpty { out += logits[0..<rows.count * c.vocabularySize] }
            start = end
        }
        return out
    }

    /// `output = input · Wᵀ`, plus the adapter's branch when it targets this layer, on the rows of `adapted` (runs
    /// of consecutive rows whose sequences take the adapter).
    private func project(_ w: WeightMatrix, _ target: LoRATarget, _ layer: Int, _ input: UnsafeMutablePointer<Float>,
                         _ output: UnsafeMutablePointer<Float>, _ n: Int, _ generationStep: Bool, _ adapted: [Range<Int>]) {
        matmul.multiply(w, input, output, n: n, generationStep: generationStep)
        guard let adapter, let perRow = adapter.scratchPerRow(layer: layer, target) else { return }
        if adapterScratch.count < n * perRow { adapterScratch = [Float](repeating: 0, count: n * perRow) }
        adapterScratch.withUnsafeMutableBufferPointer {
            for run in adapted {
                adapter.addBranch(layer: layer, target, x: input + run.lowerBound * w.cols, y: output + run.lowerBound * w.rows,
                                  ldY: w.rows, n: run.count, scratch: $0.baseAddress!)
            }
        }
    }

    /// The runs of consecutive batch rows whose sequences take the adapter (all rows when none is left alone).
    private func adaptedRuns(_ tokens: [(sequence: Int, token: Int)]) -> [Range<Int>] {
        guard !sequencesWithoutAdapter.isEmpty else { return [0..<tokens.count] }
        var runs: [Range<Int>] = [], start: Int?
        for (t, item) in tokens.enumerated() {
            let adapted = !sequencesWithoutAdapter.contains(item.sequence)
            if adapted, start == nil { start = t }
            if !adapted, let s = start { runs.append(s..<t); start = nil }
        }
        if let s = start { runs.append(s..<tokens.count) }
        return runs
    }

    /// One batch of at most `maxBatch` tokens, each appended to its sequence (in order); writes logits of
    /// `outputRows` (batch indices) to `logits`. `generationStep`: one token per sequence (see `MatMul.multiply`).
    private func forward(_ tokens: [(sequence: Int, token: Int)], outputRows: Range<Int>, generationStep: Bool = false) {
        let c = model.config, w = model.weights
        let n = tokens.count, e = c.embeddingLength, qDim = c.headCount * c.headDim, kv = c.kvDim, ff = c.feedForwardLength
        let adapted = adaptedRuns(tokens)
        for (t, item) in tokens.enumerated() {
            w.tokenEmbd.dequantizeRow(item.token, into: x + t * e)
            positions[t] = Int32(lengths[item.sequence])
            rowStarts[t] = Int32(item.sequence * contextSize)
            lengths[item.sequence] += 1
        }
        for (l, layer) in w.layers.enumerated() {
            // Attention block.
            layer.attnNorm.withUnsafeBufferPointer { Ops.rmsNorm(x, $0.baseAddress!, xb, n: n, dim: e, eps: c.rmsEps) }
            project(layer.attnQ, .q, l, xb, q, n, generationStep, adapted)
            project(layer.attnK, .k, l, xb, k, n, generationStep, adapted)
            project(layer.attnV, .v, l, xb, v, n, generationStep, adapted)
            layer.attnQBias.withUnsafeBufferPointer { Ops.addBias(q, $0.baseAddress!, n: n, dim: qDim) }
            layer.attnKBias.withUnsafeBufferPointer { Ops.addBias(k, $0.baseAddress!, n: n, dim: kv) }
            layer.attnVBias.withUnsafeBufferPointer { Ops.addBias(v, $0.baseAddress!, n: n, dim: kv) }
            Ops.rope(q, positions: positions, n: n, heads: c.headCount, headDim: c.headDim, base: c.ropeFreqBase)
            Ops.rope(k, positions: positions, n: n, heads: c.headCountKV, headDim: c.headDim, base: c.ropeFreqBase)
            for t in 0..<n {
                let row = Int(rowStarts[t]) + Int(positions[t])
                Quantize.row(cacheType.ggmlType, k + t * kv, keys[l] + row * cacheRowBytes, count: kv)
                Quantize.row(cacheType.ggmlType, v + t * kv, values[l] + row * cacheRowBytes, count: kv)
            }
            Attention.run(q: q, keys: keys[l], values: values[l], cache: cacheType, path: matmul.path, out: att, n: n,
                          positions: positions, sequenceStart: rowStarts, heads: c.headCount, kvHeads: c.headCountKV,
                          headDim: c.headDim, scratch: scores, ctx: contextSize, threads: threads)
            project(layer.attnOutput, .o, l, att, xb, n, generationStep, adapted)
            Ops.add(x, xb, count: n * e)
            // Feed-forward block.
            layer.ffnNorm.withUnsafeBufferPointer { Ops.rmsNorm(x, $0.baseAddress!, xb, n: n, dim: e, eps: c.rmsEps) }
            project(layer.ffnGate, .gate, l, xb, gate, n, generationStep, adapted)
            project(layer.ffnUp, .up, l, xb, up, n, generationStep, adapted)
            // A prompt's rows split over the threads: alone, this element-wise step would leave the other cores idle.
            let parts = min(n, threads)
            parallelFor(parts: parts, threads: threads) { p in
                let t0 = n * p / parts, t1 = n * (p + 1) / parts
                Ops.swiglu(gate + t0 * ff, up + t0 * ff, count: (t1 - t0) * ff)
            }
            project(layer.ffnDown, .down, l, gate, xb, n, generationStep, adapted)
            Ops.add(x, xb, count: n * e)
        }
        guard !outputRows.isEmpty else { return }
        let rows = outputRows.count
        w.outputNorm.withUnsafeBufferPointer {
            Ops.rmsNorm(x + outputRows.lowerBound * e, $0.baseAddress!, xb, n: rows, dim: e, eps: c.rmsEps)
        }
        if logits.count < rows * c.vocabularySize { logits = [Float](repeating: 0, count: rows * c.vocabularySize) }
        logits.withUnsafeMutableBufferPointer { matmul.multiply(w.output, xb, $0.baseAddress!, n: rows, generationStep: generationStep) }
    }
}
