/// Causal grouped-query attention of a batch of new tokens over a key/value cache that holds one or more
/// sequences.
public enum Attention {
    /// - Parameters:
    ///   - q: `[n, heads * headDim]` queries of the new tokens (rotary already applied).
    ///   - keys, values: `[cacheRows, kvHeads * headDim]`; each row's keys and values are already written.
    ///   - out: `[n, heads * headDim]`.
    ///   - positions: `[n]` position of each new token in its sequence; it attends to positions `0...position`.
    ///   - sequenceStart: `[n]` cache row where each token's sequence starts.
    ///   - scratch: `[threads, ctx]` f32 for scores; `ctx` bounds every position + 1.
    public static func run(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                           out: UnsafeMutablePointer<Float>, n: Int, positions: UnsafePointer<Int32>,
                           sequenceStart: UnsafePointer<Int32>, heads: Int, kvHeads: Int, headDim: Int,
                           scratch: UnsafeMutablePointer<Float>, ctx: Int, threads: Int) {
        let group = heads / kvHeads
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let slots = SlotPool(count: threads)
        parallelFor(parts: n * heads, threads: threads) { job in
            let t = job / heads, h = job % heads
            let slot = slots.acquire()
            defer { slots.release(slot) }
            let scores = scratch + slot * ctx
            let kvh = h / group
            let qv = q + t * qDim + h * headDim
            let length = Int(positions[t]) + 1
            let k0 = keys + Int(sequenceStart[t]) * kvDim + kvh * headDim
            let v0 = values + Int(sequenceStart[t]) * kvDim + kvh * headDim
            for j in 0..<length { scores[j] = Ops.dot(qv, k0 + j * kvDim, count: headDim) * scale }
            Ops.softmax(scores, count: length)
            let o = out + t * qDim + h * headDim
            for d in 0..<headDim { o[d] = 0 }
            for j in 0..<length {
                let w = scores[j], v = v0 + j * kvDim
                for d in 0..<headDim { o[d] += w * v[d] }
            }
        }
    }
}

/// Indices of scratch rows, one per running job.
public final class SlotPool: @unchecked Sendable {
    private var free: [Int]
    private let lock = Lock()
    public init(count: Int) { free = Array(0..<max(count, 1)) }
    public func acquire() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return free.removeLast()
    }
    public func release(_ i: Int) {
        lock.lock()
        free.append(i)
        lock.unlock()
    }
}
