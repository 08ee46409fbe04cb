/// Causal grouped-query attention of a batch of new tokens over a key/value cache.
public enum Attention {
    /// - Parameters:
    ///   - q: `[n, heads * headDim]` queries of the new tokens (rotary already applied).
    ///   - keys, values: `[ctx, kvHeads * headDim]` cache; rows `0..<start + n` are filled.
    ///   - out: `[n, heads * headDim]`.
    ///   - start: cache position of the first new token; token t attends to positions `0...start + t`.
    ///   - scratch: `[threads, ctx]` f32 for scores.
    public static func run(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                           out: UnsafeMutablePointer<Float>, n: Int, start: Int, heads: Int, kvHeads: Int, headDim: Int,
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
            let length = start + t + 1
            for j in 0..<length { scores[j] = Ops.dot(qv, keys + j * kvDim + kvh * headDim, count: headDim) * scale }
            Ops.softmax(scores, count: length)
            let o = out + t * qDim + h * headDim
            for d in 0..<headDim { o[d] = 0 }
            for j in 0..<length {
                let w = scores[j], v = values + j * kvDim + kvh * headDim
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
