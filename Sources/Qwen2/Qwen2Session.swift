import CKernels
import Kernels

/// Which positions of a decoded batch get logits.
public enum LogitsSelection: Sendable {
    case none, last, all
    /// Positions `from..<n` of the batch.
    case from(Int)
}

/// A decoding session: the KV cache and every activation buffer, allocated once; `decode` appends tokens.
/// One path serves prompt processing (many tokens) and generation (one token).
public final class Qwen2Session {
    public let model: Qwen2Model
    public let contextSize: Int
    public let maxBatch: Int
    public let threads: Int
    /// Tokens in the cache.
    public private(set) var position = 0

    private let matmul: MatMul
    private let keys: [UnsafeMutablePointer<Float>]     // [layers][contextSize, kvDim] f32
    private let values: [UnsafeMutablePointer<Float>]   // [layers][contextSize, kvDim] f32
    private let x: UnsafeMutablePointer<Float>          // [maxBatch, embd] residual stream
    private let xb: UnsafeMutablePointer<Float>         // [maxBatch, embd] normed input / block output
    private let q: UnsafeMutablePointer<Float>          // [maxBatch, heads*headDim]
    private let k: UnsafeMutablePointer<Float>          // [maxBatch, kvDim]
    private let v: UnsafeMutablePointer<Float>          // [maxBatch, kvDim]
    private let att: UnsafeMutablePointer<Float>        // [maxBatch, heads*headDim]
    private let gate: UnsafeMutablePointer<Float>       // [maxBatch, ff]
    private let up: UnsafeMutablePointer<Float>         // [maxBatch, ff]
    private let positions: UnsafeMutablePointer<Int32>  // [maxBatch]
    private let scores: UnsafeMutablePointer<Float>     // [threads, contextSize] attention scratch
    private var logits: [Float] = []                    // [rows, vocab], grown on demand
    private var loraScratch: [Float] = []               // [maxBatch, rank] adapter branch, grown on demand

    /// A LoRA adapter applied on the fly (not merged); it may change between calls (training updates it).
    public var adapter: LoRAAdapter?

    /// `kernelPath` forces an instruction-set path for the generation kernels (tests use it); nil picks the best.
    /// `exactActivations` keeps generation's activations in f32 (nil: `VPGEA_ACTIVATIONS=f32` decides).
    public init(model: Qwen2Model, contextSize: Int = 4096, maxBatch: Int = 512, threads: Int = 2,
                kernelPath: Int32? = nil, exactActivations: Bool? = nil) {
        let c = model.config
        self.model = model
        self.contextSize = contextSize
        Self.keepLargeAllocations()
        self.maxBatch = maxBatch
        self.threads = max(threads, 1)
        matmul = MatMul(threads: threads, path: kernelPath, exactActivations: exactActivations)
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        keys = (0..<c.layerCount).map { _ in buffer(contextSize * c.kvDim) }
        values = (0..<c.layerCount).map { _ in buffer(contextSize * c.kvDim) }
        x = buffer(maxBatch * c.embeddingLength)
        xb = buffer(maxBatch * c.embeddingLength)
        q = buffer(maxBatch * c.headCount * c.headDim)
        k = buffer(maxBatch * c.kvDim)
        v = buffer(maxBatch * c.kvDim)
        att = buffer(maxBatch * c.headCount * c.headDim)
        gate = buffer(maxBatch * c.feedForwardLength)
        up = buffer(maxBatch * c.feedForwardLength)
        positions = UnsafeMutablePointer<Int32>.allocate(capacity: maxBatch)
        scores = buffer(self.threads * contextSize)
    }

    /// Logit rows (600 KB per token) are handed out as fresh arrays; glibc would map and unmap each one, and
    /// the kernel would zero its pages every token.
    private static func keepLargeAllocations() { vpg_keep_large_allocations() }

    deinit {
        (keys + values + [x, xb, q, k, v, att, gate, up, scores]).forEach { $0.deallocate() }
        positions.deallocate()
    }

    /// Empties the cache.
    public func reset() { position = 0 }

    /// Forgets every token after the first `count` (e.g. to re-use a shared prompt prefix).
    public func truncate(to count: Int) { position = min(position, max(count, 0)) }

    /// Appends `tokens` to the cache and returns the logits of the selected positions, `[rows, vocab]` row-major.
    public func decode(_ tokens: [Int], logits selection: LogitsSelection = .last) throws(ModelError) -> [Float] {
        let c = model.config
        guard position + tokens.count <= contextSize else {
            throw .contextFull(needed: position + tokens.count, size: contextSize)
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
            let rows = max(wanted.lowerBound, start)..<min(wanted.upperBound, end)
            forward(Array(tokens[start..<end]), outputRows: rows.isEmpty ? 0..<0 : (rows.lowerBound - start)..<(rows.upperBound - start))
            if !rows.isEmpty { out += logits[0..<rows.count * c.vocabularySize] }
            start = end
        }
        return out
    }

    /// `output = input · Wᵀ`, plus the adapter's branch when it targets this layer.
    private func project(_ w: WeightMatrix, _ target: LoRATarget, _ layer: Int, _ input: UnsafeMutablePointer<Float>,
                         _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        matmul.multiply(w, input, output, n: n)
        guard let adapter, let slot = adapter.slot(layer: layer, target) else { return }
        let need = n * adapter.config.rank
        if loraScratch.count < need { loraScratch = [Float](repeating: 0, count: need) }
        loraScratch.withUnsafeMutableBufferPointer {
            adapter.apply(slot, x: input, y: output, ldY: w.rows, n: n, scratch: $0.baseAddress!)
        }
    }

    /// One batch of at most `maxBatch` tokens; writes logits of `outputRows` (batch indices) to `logits`.
    private func forward(_ tokens: [Int], outputRows: Range<Int>) {
        let c = model.config, w = model.weights
        let n = tokens.count, e = c.embeddingLength, qDim = c.headCount * c.headDim, kv = c.kvDim, ff = c.feedForwardLength
        for (t, id) in tokens.enumerated() {
            w.tokenEmbd.dequantizeRow(id, into: x + t * e)
            positions[t] = Int32(position + t)
        }
        for (l, layer) in w.layers.enumerated() {
            // Attention block.
            layer.attnNorm.withUnsafeBufferPointer { Ops.rmsNorm(x, $0.baseAddress!, xb, n: n, dim: e, eps: c.rmsEps) }
            project(layer.attnQ, .q, l, xb, q, n)
            project(layer.attnK, .k, l, xb, k, n)
            project(layer.attnV, .v, l, xb, v, n)
            layer.attnQBias.withUnsafeBufferPointer { Ops.addBias(q, $0.baseAddress!, n: n, dim: qDim) }
            layer.attnKBias.withUnsafeBufferPointer { Ops.addBias(k, $0.baseAddress!, n: n, dim: kv) }
            layer.attnVBias.withUnsafeBufferPointer { Ops.addBias(v, $0.baseAddress!, n: n, dim: kv) }
            Ops.rope(q, positions: positions, n: n, heads: c.headCount, headDim: c.headDim, base: c.ropeFreqBase)
            Ops.rope(k, positions: positions, n: n, heads: c.headCountKV, headDim: c.headDim, base: c.ropeFreqBase)
            (keys[l] + position * kv).update(from: k, count: n * kv)
            (values[l] + position * kv).update(from: v, count: n * kv)
            Attention.run(q: q, keys: keys[l], values: values[l], out: att, n: n, start: position,
                          heads: c.headCount, kvHeads: c.headCountKV, headDim: c.headDim,
                          scratch: scores, ctx: contextSize, threads: threads)
            project(layer.attnOutput, .o, l, att, xb, n)
            Ops.add(x, xb, count: n * e)
            // Feed-forward block.
            layer.ffnNorm.withUnsafeBufferPointer { Ops.rmsNorm(x, $0.baseAddress!, xb, n: n, dim: e, eps: c.rmsEps) }
            project(layer.ffnGate, .gate, l, xb, gate, n)
            project(layer.ffnUp, .up, l, xb, up, n)
            Ops.swiglu(gate, up, count: n * ff)
            project(layer.ffnDown, .down, l, gate, xb, n)
            Ops.add(x, xb, count: n * e)
        }
        position += n
        guard !outputRows.isEmpty else { return }
        let rows = outputRows.count
        w.outputNorm.withUnsafeBufferPointer {
            Ops.rmsNorm(x + outputRows.lowerBound * e, $0.baseAddress!, xb, n: rows, dim: e, eps: c.rmsEps)
        }
        if logits.count < rows * c.vocabularySize { logits = [Float](repeating: 0, count: rows * c.vocabularySize) }
        logits.withUnsafeMutableBufferPointer { matmul.multiply(w.output, xb, $0.baseAddress!, n: rows) }
    }
}
